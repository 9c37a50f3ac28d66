package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// diffRowsJSON runs dx diff --rows --json with args and returns the one
// table's diff.
func (r *repoDir) diffRowsJSON(args ...string) rowDiffJSON {
	r.t.Helper()
	var ds []rowDiffJSON
	out := r.ok(append([]string{"diff", "--rows", "--json"}, args...)...)
	if err := json.Unmarshal([]byte(out), &ds); err != nil || len(ds) != 1 || !ds[0].Table {
		r.t.Fatalf("diff --rows --json %v: %s (%v)", args, out, err)
	}
	return ds[0]
}

// TestCSVBareQuotes is issue 20's new user: coordinates whose unquoted
// fields hold a bare double quote (37°36'37.8"N), and a field with text
// after its closing quote. What commit accepts, diff --rows, merge, check,
// profile and delta read too, with the values Python's csv module reads.
func TestCSVBareQuotes(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	r.write("dx.contract.yaml", "tables:\n  - path: places.csv\n    columns:\n      - name: lat\n        required: true\n        regex: '[0-9]+°.*'\n")
	r.write("places.csv", "id,name,lat\n1,SFO,37°36'37.8\"N\n2,OAK,37°43'17.0\"N\n")
	r.ok("commit", "-m", "v1")
	model := filepath.Join(t.TempDir(), "model.json")
	writeBytes(t, model, []byte("{}\n"))
	r.ok("model", "register", "places", "--artifact", model, "--data", "HEAD")

	r.ok("branch", "feature")
	r.ok("checkout", "feature")
	r.write("places.csv", "id,name,lat\n1,SFO,37°36'37.8\"N\n2,OAK,37°43'18.0\"N\n3,\"San \"Jose,37°21'46.0\"N\n")
	d := r.diffRowsJSON()
	if d.Added != 1 || d.Changed != 1 || d.Removed != 0 {
		t.Fatalf("diff against the worktree: %+v", d)
	}
	for _, row := range d.Rows {
		switch row.Key[0] {
		case "2":
			if row.Old["lat"] != `37°43'17.0"N` || row.New["lat"] != `37°43'18.0"N` {
				t.Errorf("changed row: %v → %v", row.Old, row.New)
			}
		case "3":
			if row.New["name"] != "San Jose" || row.New["lat"] != `37°21'46.0"N` {
				t.Errorf("added row: %v", row.New)
			}
		default:
			t.Errorf("row %v", row)
		}
	}
	r.ok("commit", "-m", "feature")

	r.ok("checkout", "main")
	r.write("places.csv", "id,name,lat\n1,SFO,37°36'37.8\"N\n2,OAK,37°43'17.0\"N\n4,SMF,38°41'44.0\"N\n")
	r.ok("commit", "-m", "main")
	r.ok("merge", "feature")
	// The merged rows are written as RFC 4180 (and Python's csv writer)
	// write them, quoted; they read back as the same values.
	d = r.diffRowsJSON("HEAD~1", "HEAD")
	if d.Added != 1 || d.Changed != 1 || len(d.Rows) != 2 {
		t.Fatalf("merge commit against main: %+v", d)
	}
	for _, row := range d.Rows {
		if lat := map[string]string{"2": `37°43'18.0"N`, "3": `37°21'46.0"N`}[row.Key[0]]; row.New["lat"] != lat {
			t.Errorf("merged row %s: %v, want lat %s", row.Key[0], row.New, lat)
		}
	}
	r.ok("check")
	if p := r.profile("HEAD:places.csv"); p.Rows != 4 {
		t.Errorf("profile: %d rows, want 4", p.Rows)
	}
	var delta []rowDiffJSON
	if err := json.Unmarshal([]byte(r.ok("delta", "places", "--json")), &delta); err != nil {
		t.Fatal(err)
	}
	if len(delta) != 1 || delta[0].Added != 2 || delta[0].Changed != 1 || delta[0].Removed != 0 {
		t.Errorf("delta: %+v", delta)
	}
}

// TestCSVOtherDialect: .dxattributes describes a CSV written with
// semicolons, no header and single quotes; its columns are 1..n, keyed by
// number. A bad dialect attribute is one line naming file:line.
func TestCSVOtherDialect(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "*.csv table=csv\ndata/*.csv delimiter=; quote=' header=false key=1\n")
	r.write("data/cities.csv", "1;Zürich;'a;b'\n2;Genève;x\n")
	r.ok("commit", "-m", "v1")
	r.write("data/cities.csv", "1;Zürich;'a;b'\n2;Genève;'it''s'\n3;Bern;\"y\"\n")
	d := r.diffRowsJSON()
	if d.Added != 1 || d.Changed != 1 || len(d.Rows) != 2 {
		t.Fatalf("diff: %+v", d)
	}
	for _, row := range d.Rows {
		switch row.Key[0] {
		case "2":
			if row.Old["3"] != "x" || row.New["3"] != "it's" || row.New["2"] != "Genève" {
				t.Errorf("changed row: %v → %v", row.Old, row.New)
			}
		case "3":
			if row.New["2"] != "Bern" || row.New["3"] != `"y"` {
				t.Errorf("added row: %v", row.New)
			}
		}
	}
	r.ok("commit", "-m", "v2")
	if p := r.profile("HEAD:data/cities.csv"); p.Rows != 3 || len(p.Columns) != 3 {
		t.Errorf("profile: %d rows, %d columns", p.Rows, len(p.Columns))
	}
	// A merge by key writes rows in the dialect, and no header line.
	r.ok("branch", "side")
	r.ok("checkout", "side")
	r.write("data/cities.csv", "1;'Zürich; ZH';'a;b'\n2;Genève;'it''s'\n3;Bern;\"y\"\n")
	r.ok("commit", "-m", "side")
	r.ok("checkout", "main")
	r.write("data/cities.csv", "1;Zürich;'a;b'\n2;Genève;'it''s'\n3;Bern;\"y\"\n4;Basel;z\n")
	r.ok("commit", "-m", "main")
	r.ok("merge", "side")
	if got, err := os.ReadFile(r.path("data/cities.csv")); err != nil || string(got) != "1;'Zürich; ZH';'a;b'\n2;Genève;'it''s'\n3;Bern;\"y\"\n4;Basel;z\n" {
		t.Errorf("merged: %q %v", got, err)
	}

	r.write(".dxattributes", "*.csv table=csv\ndata/*.csv delimiter=;; key=1\n")
	res := r.fails(`.dxattributes:2: bad delimiter ";;"`, "commit", "-m", "bad")
	if strings.Count(strings.TrimSpace(res.stderr), "\n") > 0 {
		t.Errorf("not one line: %q", res.stderr)
	}
}

// TestCSVOtherDialectCostsTheChange: a table of ';' and single quotes big
// enough for many chunks, committed, changed in one row, diffed and
// merged. Its chunks end rows of its dialect, which the commits learn: the
// row diff reads a few of them, and the merge is the rows of both sides.
func TestCSVOtherDialectCostsTheChange(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "*.csv table=csv delimiter=; quote=' key=id\n")
	table := func(edit map[int]string) string {
		return cityTable(60000, edit, func(i int) (string, string) {
			return fmt.Sprintf("'City; %d'", i%311), fmt.Sprintf("'it''s row %d'", i)
		})
	}
	r.write("t.csv", table(nil))
	r.ok("commit", "-m", "v1")
	r.write("t.csv", table(map[int]string{30000: "Basel"}))
	d := r.diffRowsJSON()
	if d.Changed != 1 || d.Added+d.Removed != 0 || d.Rows[0].New["city"] != "Basel" || d.Rows[0].Old["city"] != "City; 144" {
		t.Fatalf("diff: %+v", d)
	}
	if d.Stats.BytesRead*10 > d.Stats.BytesTotal {
		t.Fatalf("read %d of %d bytes for one changed row", d.Stats.BytesRead, d.Stats.BytesTotal)
	}
	r.ok("commit", "-m", "v2")
	r.ok("branch", "side", "HEAD~1")
	r.ok("checkout", "side")
	r.write("t.csv", table(map[int]string{100: "'Bern; BE'"}))
	r.ok("commit", "-m", "side")
	r.ok("checkout", "main")
	r.ok("merge", "side")
	if got, err := os.ReadFile(r.path("t.csv")); err != nil || string(got) != table(map[int]string{100: "'Bern; BE'", 30000: "Basel"}) {
		t.Fatalf("merged: %d bytes, %v", len(got), err)
	}
	d = r.diffRowsJSON("HEAD~1", "HEAD")
	if d.Changed != 1 || d.Rows[0].New["city"] != "Bern; BE" || d.Stats.BytesRead*10 > d.Stats.BytesTotal {
		t.Fatalf("merge's diff: %+v", d.Stats)
	}
}

// TestCSVQuotedLineEndsCostTheChange: a ';' table with '"' quotes, some of
// whose quoted fields hold line ends (a spreadsheet's export): the
// chunker reads it as the default dialect, to which a quote after ';' is
// text, so some cuts fall inside quoted fields. A one-row change is
// committed and diffed reading a small part of the table, with the rows
// right, and a key added twice is still refused.
func TestCSVQuotedLineEndsCostTheChange(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "*.csv table=csv delimiter=; key=id\n")
	table := func(edit map[int]string) string {
		return cityTable(80000, edit, func(i int) (string, string) {
			if i%7 == 0 {
				return fmt.Sprintf("City %d", i%311), fmt.Sprintf("\"row %d;\nsecond line\"", i)
			}
			return fmt.Sprintf("City %d", i%311), fmt.Sprintf("row %d", i)
		})
	}
	r.write("t.csv", table(nil))
	r.ok("commit", "-m", "v1")
	r.write("t.csv", table(map[int]string{40005: "Basel"}))
	var c struct {
		Verified struct {
			Bytes int64 `json:"table_bytes_checked"`
		} `json:"verified"`
	}
	if err := json.Unmarshal([]byte(r.ok("commit", "-m", "v2", "--json")), &c); err != nil {
		t.Fatal(err)
	}
	size := int64(len(table(nil)))
	if c.Verified.Bytes == 0 || c.Verified.Bytes*10 > 2*size {
		t.Fatalf("the commit checked %d bytes of two versions of %d", c.Verified.Bytes, size)
	}
	d := r.diffRowsJSON("HEAD~1", "HEAD")
	if d.Changed != 1 || d.Added+d.Removed != 0 || d.Rows[0].New["city"] != "Basel" || d.Rows[0].New["note"] != "row 40005;\nsecond line" {
		t.Fatalf("diff: %+v", d)
	}
	if d.Stats.BytesRead*10 > d.Stats.BytesTotal || d.Stats.BytesParsed*100 > d.Stats.BytesTotal {
		t.Fatalf("read %d, parsed %d of %d bytes for one changed row", d.Stats.BytesRead, d.Stats.BytesParsed, d.Stats.BytesTotal)
	}
	r.write("t.csv", table(nil)+"77;City;\"again\nhere\"\n")
	r.fails(`duplicate key "77"`, "commit", "-m", "dup")
	// A merge of two one-row changes, one to a quoted note, is both.
	r.write("t.csv", table(map[int]string{40005: "Basel"}))
	r.ok("branch", "side", "HEAD~1")
	r.ok("checkout", "side")
	side := strings.Replace(table(nil), "\"row 700;\nsecond line\"", "\"row 700;\nthird line\"", 1)
	r.write("t.csv", side)
	r.ok("commit", "-m", "side")
	r.ok("checkout", "main")
	r.ok("merge", "side")
	want := strings.Replace(table(map[int]string{40005: "Basel"}), "\"row 700;\nsecond line\"", "\"row 700;\nthird line\"", 1)
	if got, err := os.ReadFile(r.path("t.csv")); err != nil || string(got) != want {
		t.Fatalf("merged: %d bytes (want %d), %v", len(got), len(want), err)
	}
	d = r.diffRowsJSON("HEAD~1", "HEAD")
	if d.Changed != 1 || d.Rows[0].New["note"] != "row 700;\nthird line" || d.Stats.BytesRead*10 > d.Stats.BytesTotal {
		t.Fatalf("the merge's diff: %+v", d)
	}
}

// cityTable is an id;city;note table of n rows, row i's fields as field
// writes them, but the cities edit sets.
func cityTable(n int, edit map[int]string, field func(i int) (city, note string)) string {
	var b strings.Builder
	b.WriteString("id;city;note\n")
	for i := range n {
		city, note := field(i)
		if e, ok := edit[i]; ok {
			city = e
		}
		fmt.Fprintf(&b, "%d;%s;%s\n", i, city, note)
	}
	return b.String()
}
