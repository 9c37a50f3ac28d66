package cdcwrite

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/dxdata/dx/internal/npmcache"
)

// duckCount diffs two files by id with DuckDB's EXCEPT (npm
// @duckdb/node-api, installed by npm ci from the row diff's test setup);
// missing, it fails under DX_REQUIRE_DUCKDB=1 (make test) and skips
// otherwise.
func duckCount(t *testing.T, a, b []byte) (added, removed, changed int) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir, err := npmcache.Install(filepath.Join(filepath.Dir(file), "..", "testdata", "duckdb"), "duckdb", "@duckdb/node-api/package.json")
	if err != nil {
		if os.Getenv("DX_REQUIRE_DUCKDB") == "1" {
			t.Fatalf("DuckDB, which reads the files back: %v", err)
		}
		t.Skipf("DuckDB, which reads the files back: %v (DX_REQUIRE_DUCKDB=1 makes this a failure)", err)
	}
	tmp := t.TempDir()
	pa, pb := filepath.Join(tmp, "a.parquet"), filepath.Join(tmp, "b.parquet")
	if err := os.WriteFile(pa, a, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pb, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join(dir, "except.mjs"), "--count", "id", pa, pb)
	cmd.Env = append(os.Environ(), "NODE_NO_WARNINGS=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node except.mjs --count: %v", err)
	}
	var res struct{ Added, Removed, Changed int }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("DuckDB's answer %q: %v", out, err)
	}
	return res.Added, res.Removed, res.Changed
}

// TestDuckDBReads: DuckDB reads a file of this writer as the same rows as
// parquet-go's own writer's file of them (every column, every logical
// type, nulls and lists), and v1 against v2 as exactly the updates and the
// append.
func TestDuckDBReads(t *testing.T) {
	o := DefaultOptions()
	o.MinGroup, o.GroupBits, o.MaxGroup = 512<<10, 19, 4<<20
	v1, v2 := table(30_000, false), table(30_000, true)
	a := writeCDC(t, v1, o)
	if n := len(fileOf(t, a).RowGroups()); n < 2 {
		t.Fatalf("%d row groups: the test wants several", n)
	}
	if ad, rm, ch := duckCount(t, writePlain(t, v1), a); ad+rm+ch != 0 {
		t.Fatalf("DuckDB: parquet-go's file against this writer's: +%d −%d ~%d, want none", ad, rm, ch)
	}
	updated := 0
	for i := range v1 {
		if v1[i].Note != v2[i].Note {
			updated++
		}
	}
	ad, rm, ch := duckCount(t, a, writeCDC(t, v2, o))
	if ad != len(v2)-len(v1) || rm != 0 || ch != updated || updated == 0 {
		t.Fatalf("DuckDB: v1 against v2: +%d −%d ~%d, want +%d −0 ~%d", ad, rm, ch, len(v2)-len(v1), updated)
	}
}
