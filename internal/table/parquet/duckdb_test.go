package parquet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	pq "github.com/parquet-go/parquet-go"

	"github.com/dxdata/dx/internal/npmcache"
	"github.com/dxdata/dx/merge"
)

// duckdbDir is DuckDB for Node (@duckdb/node-api), installed by npm ci
// from testdata/duckdb's lock file into a cache directory outside the
// repository. When it cannot be, the test fails under DX_REQUIRE_DUCKDB=1
// (make test) and is skipped otherwise.
func duckdbDir(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir, err := npmcache.Install(filepath.Join(filepath.Dir(file), "testdata", "duckdb"), "duckdb", "@duckdb/node-api/package.json")
	if err != nil {
		if os.Getenv("DX_REQUIRE_DUCKDB") == "1" {
			t.Fatalf("DuckDB, which the row diff is checked against: %v", err)
		}
		t.Skipf("DuckDB, which the row diff is checked against: %v (DX_REQUIRE_DUCKDB=1 makes this a failure)", err)
	}
	return dir
}

// duckExcept runs DuckDB's EXCEPT on two files, both ways.
func duckExcept(t *testing.T, dir string, a, b []byte) (added, removed []map[string]any) {
	t.Helper()
	tmp := t.TempDir()
	pa, pb := filepath.Join(tmp, "v1.parquet"), filepath.Join(tmp, "v2.parquet")
	if err := os.WriteFile(pa, a, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pb, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join(dir, "except.mjs"), pa, pb)
	cmd.Env = append(os.Environ(), "NODE_NO_WARNINGS=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node except.mjs: %v\n%s", err, stderr.String())
	}
	var res struct{ Added, Removed []map[string]any }
	d := json.NewDecoder(bytes.NewReader(out))
	d.UseNumber()
	if err := d.Decode(&res); err != nil {
		t.Fatalf("DuckDB's answer: %v\n%.500s", err, out)
	}
	return res.Added, res.Removed
}

// TestAgainstDuckDB: over seeds of random edits (updates, deletes,
// inserts, moved runs, appends; random row group and page sizes), the
// rows dx's diff lists as added or changed are DuckDB's `v2 EXCEPT v1`,
// and those it lists as removed or changed are `v1 EXCEPT v2`, value for
// value in every column.
func TestAgainstDuckDB(t *testing.T) {
	dir := duckdbDir(t)
	for seed := range uint64(12) {
		n, rg, page, a, b := randomVersions(t, seed, 99)
		if seed%3 == 2 {
			// DuckDB's own writer, which writes no page indexes.
			a, b = duckRewrite(t, dir, a, rg), duckRewrite(t, dir, b, rg)
		}
		d, err := Diff(context.Background(), []string{"id"}, source(t, a), source(t, b))
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		added, removed := duckExcept(t, dir, a, b)
		var dxNew, dxOld []map[string]any
		for _, c := range d.Changes {
			if c.New != nil {
				dxNew = append(dxNew, rowObject(t, c.New))
			}
			if c.Old != nil {
				dxOld = append(dxOld, rowObject(t, c.Old))
			}
		}
		for side, pair := range map[string][2][]map[string]any{"v2 EXCEPT v1": {dxNew, added}, "v1 EXCEPT v2": {dxOld, removed}} {
			got, want := canonicalRows(pair[0]), canonicalRows(pair[1])
			if !slices.Equal(got, want) {
				t.Fatalf("seed %d (rows %d, row group %d, page %d): %s: dx has %d rows, DuckDB %d\ndx:     %v\nDuckDB: %v", seed, n, rg, page, side, len(got), len(want), head(got), head(want))
			}
		}
		t.Logf("seed %d: DuckDB: %d added, %d removed; dx decoded %d rows", seed, len(added), len(removed), d.Stats.RowsDecoded)
		if seed == 0 && len(added)+len(removed) == 0 {
			t.Fatal("seed 0 changed nothing: the test compares nothing")
		}
	}
}

// duckRewrite writes the rows of data again with DuckDB.
func duckRewrite(t *testing.T, dir string, data []byte, rowGroup int64) []byte {
	t.Helper()
	tmp := t.TempDir()
	in, out := filepath.Join(tmp, "in.parquet"), filepath.Join(tmp, "out.parquet")
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join(dir, "except.mjs"), "--rewrite", in, out, fmt.Sprint(rowGroup))
	cmd.Env = append(os.Environ(), "NODE_NO_WARNINGS=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node except.mjs --rewrite: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	f, err := pq.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.OffsetIndexes()) != 0 {
		t.Fatal("DuckDB wrote page indexes: its files no longer cover files without them")
	}
	return b
}

// rowObject is a row of dx's diff as the JSON object its output writes.
func rowObject(t *testing.T, r *merge.Row) map[string]any {
	t.Helper()
	var b bytes.Buffer
	b.WriteByte('{')
	for i, c := range r.Cols {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%s", c, r.Vals[i])
	}
	b.WriteByte('}')
	d := json.NewDecoder(&b)
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("row %v: %v", r.Vals, err)
	}
	return m
}
