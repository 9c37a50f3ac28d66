package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// readParquetRows reads a Parquet file of parquetRow rows.
func readParquetRows(t *testing.T, path string) []parquetRow {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := parquet.Read[parquetRow](bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rs
}

// parquetBranches commits base on main, then ours on main and theirs on
// feature (each a function of base's rows to the table's rows), and
// checks main out.
func parquetBranches(t *testing.T, base []parquetRow, ours, theirs func([]parquetRow) []parquetRow) *repoDir {
	t.Helper()
	r := newRepo(t)
	r.write(".dxattributes", "*.parquet table=parquet key=id\n")
	writeSmallPages(t, r.path("t.parquet"), base)
	r.ok("commit", "-m", "base")
	r.ok("branch", "feature")
	writeSmallPages(t, r.path("t.parquet"), ours(slices.Clone(base)))
	r.ok("commit", "-m", "ours")
	r.ok("checkout", "feature")
	writeSmallPages(t, r.path("t.parquet"), theirs(slices.Clone(base)))
	r.ok("commit", "-m", "theirs")
	r.ok("checkout", "main")
	return r
}

// TestParquetMerge: dx merge merges a Parquet table both branches
// changed by key: each side's updates, theirs' removal and append, in a
// merge commit whose table parquet-go reads as exactly those rows, with
// the schema kept, and which a row diff shows as theirs' changes.
func TestParquetMerge(t *testing.T) {
	base := parquetRows(3000)
	r := parquetBranches(t, base,
		func(rs []parquetRow) []parquetRow { rs[10].Name = "ours"; return rs },
		func(rs []parquetRow) []parquetRow {
			rs[2000].Name, rs[2000].Amount = "theirs", -1
			rs = slices.Delete(rs, 500, 501)
			return append(rs, parquetRow{ID: 9000, Name: "added", Amount: 1, Region: "eu"})
		})
	var res struct {
		Commit string
		Tables []struct {
			Path                               string
			Added, Changed, Removed, Conflicts int
		}
		Conflicts []any
	}
	if err := json.Unmarshal([]byte(r.ok("merge", "--json", "feature")), &res); err != nil {
		t.Fatal(err)
	}
	if res.Commit == "" || len(res.Conflicts) != 0 || len(res.Tables) != 1 || res.Tables[0].Added != 1 || res.Tables[0].Changed != 1 || res.Tables[0].Removed != 1 {
		t.Fatalf("merge result %+v", res)
	}
	want := slices.Clone(base)
	want[10].Name = "ours"
	want[2000].Name, want[2000].Amount = "theirs", -1
	want = append(slices.Delete(want, 500, 501), parquetRow{ID: 9000, Name: "added", Amount: 1, Region: "eu"})
	if got := readParquetRows(t, r.path("t.parquet")); !slices.Equal(got, want) {
		t.Fatalf("merged table: %d rows, want %d (first difference at %d)", len(got), len(want), firstDiff(got, want))
	}
	if d := r.ok("diff", "--rows", "HEAD~1", "HEAD", "--", "t.parquet"); !strings.Contains(d, "1 added, 1 removed, 1 changed rows") {
		t.Errorf("row diff of the merge against ours:\n%s", d)
	}
	if st := r.ok("status", "--short"); st != "" {
		t.Fatalf("status after the merge: %q", st)
	}
	r.ok("fsck")
}

func firstDiff(a, b []parquetRow) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestParquetMergeConflict: a key both sides changed differently stops
// the merge on a conflict: the table holds ours' row there and theirs'
// other changes, a report beside it lists the key's three versions, and
// dx checkout --theirs resolves it.
func TestParquetMergeConflict(t *testing.T) {
	base := parquetRows(3000)
	r := parquetBranches(t, base,
		func(rs []parquetRow) []parquetRow { rs[5].Name = "ours"; return rs },
		func(rs []parquetRow) []parquetRow { rs[5].Name, rs[7].Name = "theirs", "theirs too"; return rs })
	res := r.run("merge", "feature")
	if res.code != exitConflicts || !strings.Contains(res.stdout, "t.parquet") {
		t.Fatalf("merge: exit %d, want %d with t.parquet in conflict:\n%s\n%s", res.code, exitConflicts, res.stdout, res.stderr)
	}
	got := readParquetRows(t, r.path("t.parquet"))
	if len(got) != len(base) || got[5].Name != "ours" || got[7].Name != "theirs too" {
		t.Fatalf("table during the conflict: %d rows, row 5 %q, row 7 %q", len(got), got[5].Name, got[7].Name)
	}
	report, err := os.ReadFile(r.path("t.parquet.conflicts.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"5,base", "5,ours", "5,theirs", "theirs"} {
		if !strings.Contains(string(report), want) {
			t.Fatalf("conflict report lacks %q:\n%s", want, report)
		}
	}
	r.ok("checkout", "--theirs", "t.parquet")
	r.ok("merge", "--continue")
	if got := readParquetRows(t, r.path("t.parquet")); got[5].Name != "theirs" || got[7].Name != "theirs too" {
		t.Fatalf("after checkout --theirs: row 5 %q, row 7 %q", got[5].Name, got[7].Name)
	}
	if _, err := os.Stat(r.path("t.parquet.conflicts.csv")); !os.IsNotExist(err) {
		t.Fatalf("the conflict report is left after the merge: %v", err)
	}
}

type parquetRowWide struct {
	ID     int64   `parquet:"id"`
	Name   string  `parquet:"name"`
	Amount float64 `parquet:"amount"`
	Region string  `parquet:"region,dict"`
	Extra  string  `parquet:"extra"`
}

// TestParquetMergeSchemaChange: a side that changed the table's schema
// makes it a conflict of the whole file, said in one line, which dx
// checkout --ours resolves; a Parquet table one side changed merges as
// that side's file.
func TestParquetMergeSchemaChange(t *testing.T) {
	base := parquetRows(2000)
	r := parquetBranches(t, base,
		func(rs []parquetRow) []parquetRow { rs[5].Name = "ours"; return rs },
		func(rs []parquetRow) []parquetRow { return rs })
	// feature: the schema gains a column, and another table changes.
	r.ok("checkout", "feature")
	var wide []parquetRowWide
	for _, x := range base {
		wide = append(wide, parquetRowWide{x.ID, x.Name, x.Amount, x.Region, "x"})
	}
	f, err := os.Create(r.path("t.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[parquetRowWide](f)
	if _, err := w.Write(wide); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	other := parquetRows(100)
	writeSmallPages(t, r.path("sub/o.parquet"), other)
	r.ok("commit", "-m", "theirs: a new column")
	r.ok("checkout", "main")
	res := r.run("merge", "feature")
	if res.code != exitConflicts || !strings.Contains(res.stderr, "t.parquet: merged as a file, not by rows") || !strings.Contains(res.stderr, "extra") {
		t.Fatalf("merge: exit %d, want %d and the schema change said:\n%s\n%s", res.code, exitConflicts, res.stdout, res.stderr)
	}
	r.ok("checkout", "--ours", "t.parquet")
	r.ok("merge", "--continue")
	if got := readParquetRows(t, r.path("t.parquet")); got[5].Name != "ours" {
		t.Fatalf("after checkout --ours: row 5 %q", got[5].Name)
	}
	if got := readParquetRows(t, filepath.Join(r.dir, "sub", "o.parquet")); len(got) != len(other) {
		t.Fatalf("sub/o.parquet: %d rows, want %d", len(got), len(other))
	}
}

// TestParquetMergeAgainDedups: a merge's table is written with content-
// defined pages, so the next merge, after one more row changed on each
// side (each side rewriting the table with parquet-go), stores a small part
// of the table anew: its pages are the first merge's.
func TestParquetMergeAgainDedups(t *testing.T) {
	base := parquetRows(200_000)
	r := parquetBranches(t, base,
		func(rs []parquetRow) []parquetRow { rs[10].Name = "ours"; return rs },
		func(rs []parquetRow) []parquetRow { rs[150_000].Name = "theirs"; return rs })
	r.ok("merge", "feature")
	merged := readParquetRows(t, r.path("t.parquet"))
	info, err := os.Stat(r.path("t.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	// Each side changes one more row of the merged table.
	r.ok("checkout", "feature")
	r.ok("merge", "main") // a fast-forward to the merge
	theirs := slices.Clone(merged)
	theirs[120_000].Name = "theirs again"
	writeSmallPages(t, r.path("t.parquet"), theirs)
	r.ok("commit", "-m", "theirs again")
	r.ok("checkout", "main")
	ours := slices.Clone(merged)
	ours[20].Name = "ours again"
	writeSmallPages(t, r.path("t.parquet"), ours)
	r.ok("commit", "-m", "ours again")
	res := r.run("--stats", "merge", "feature")
	if res.code != 0 {
		t.Fatalf("second merge: %s", res.stderr)
	}
	st := lastJSON(t, res.stderr)
	got := readParquetRows(t, r.path("t.parquet"))
	if len(got) != len(base) || got[10].Name != "ours" || got[20].Name != "ours again" || got[120_000].Name != "theirs again" || got[150_000].Name != "theirs" {
		t.Fatalf("second merge: %d rows; %q %q %q %q", len(got), got[10].Name, got[20].Name, got[120_000].Name, got[150_000].Name)
	}
	t.Logf("merged table %d bytes; the second merge stored %d new bytes", info.Size(), st["data_bytes_raw"])
	if st["data_bytes_raw"] == 0 || st["data_bytes_raw"] > info.Size()/10 {
		t.Fatalf("the second merge stored %d new bytes of a %d-byte table: want some, at most a tenth", st["data_bytes_raw"], info.Size())
	}
}
