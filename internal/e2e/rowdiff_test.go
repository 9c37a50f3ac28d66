package e2e

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
)

// genCSV writes n rows keyed by id, with quoted commas and newlines here
// and there, and returns the rows by id.
func genCSV(seed uint64, n int) (string, map[string][]string) {
	r := rand.New(rand.NewPCG(seed, 7))
	var b strings.Builder
	b.WriteString("id,name,amount,note\n")
	rows := map[string][]string{}
	for i := 0; i < n; i++ {
		note := fmt.Sprintf("n%d", r.IntN(1e6))
		if i%500 == 3 {
			note = fmt.Sprintf("multi\nline, %d", i)
		}
		rec := []string{fmt.Sprint(i), fmt.Sprintf("name%d", i), fmt.Sprintf("%d.%02d", r.IntN(1000), r.IntN(100)), note}
		rows[rec[0]] = rec
		b.WriteString(csvLine(rec))
	}
	return b.String(), rows
}

func csvLine(rec []string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(rec)
	w.Flush()
	return b.String()
}

type rowDiffJSON struct {
	Path    string `json:"path"`
	Table   bool   `json:"table"`
	Added   int    `json:"added"`
	Removed int    `json:"removed"`
	Changed int    `json:"changed"`
	Rows    []struct {
		Change  string            `json:"change"`
		Key     []string          `json:"key"`
		Old     map[string]string `json:"old"`
		New     map[string]string `json:"new"`
		Columns []string          `json:"columns"`
	} `json:"rows"`
	Stats struct {
		BytesTotal  int64 `json:"bytes_total"`
		BytesRead   int64 `json:"bytes_read"`
		BytesParsed int64 `json:"bytes_parsed"`
	} `json:"stats"`
}

// TestRowDiff: a keyed CSV table edited in place; dx diff --rows reports
// exactly the edited rows, against the worktree and between commits, in
// every output format, reading a small part of the table.
func TestRowDiff(t *testing.T) {
	r := newRepo(t)
	text, rows := genCSV(1, 60000)
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	r.write("t.csv", text)
	r.write("notes.txt", "v1\n")
	r.ok("commit", "-m", "v1")

	// Edit: update 3 rows (one with a quoted newline), delete 2, insert 2
	// in the middle and append 2.
	var out strings.Builder
	want := map[string]string{}
	updated := map[string][]string{
		"10":    {"10", "name10", "1.00", "changed"},
		"3":     {"3", "name3", "2.00", "still\nmulti, line"},
		"59000": {"59000", "RENAMED", rows["59000"][2], rows["59000"][3]},
	}
	for id := range updated {
		want[id] = "changed"
	}
	deleted := map[string]bool{"20000": true, "45000": true}
	for id := range deleted {
		want[id] = "removed"
	}
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out.WriteString(csvLine(recs[0]))
	for _, rec := range recs[1:] {
		id := rec[0]
		if deleted[id] {
			continue
		}
		if u, ok := updated[id]; ok {
			rec = u
		}
		out.WriteString(csvLine(rec))
		if id == "30000" {
			out.WriteString(csvLine([]string{"x1", "inserted", "3.00", "mid"}))
			out.WriteString(csvLine([]string{"x2", "inserted", "4.00", "quoted, \"comma\""}))
		}
	}
	out.WriteString(csvLine([]string{"y1", "appended", "5.00", ""}))
	out.WriteString(csvLine([]string{"y2", "appended", "6.00", "end"}))
	for _, id := range []string{"x1", "x2", "y1", "y2"} {
		want[id] = "added"
	}
	r.write("t.csv", out.String())
	r.write("notes.txt", "v2\n")

	check := func(args ...string) rowDiffJSON {
		t.Helper()
		var ds []rowDiffJSON
		if err := json.Unmarshal([]byte(r.ok(append([]string{"diff", "--rows", "--json"}, args...)...)), &ds); err != nil {
			t.Fatal(err)
		}
		var tbl *rowDiffJSON
		for i := range ds {
			switch ds[i].Path {
			case "t.csv":
				tbl = &ds[i]
			case "notes.txt":
				if ds[i].Table {
					t.Errorf("notes.txt reported as a table")
				}
			}
		}
		if tbl == nil || !tbl.Table {
			t.Fatalf("t.csv missing from %+v", ds)
		}
		got := map[string]string{}
		for _, row := range tbl.Rows {
			got[row.Key[0]] = row.Change
			switch row.Change {
			case "changed":
				u := updated[row.Key[0]]
				if row.New["name"] != u[1] || row.New["note"] != u[3] || row.Old["name"] != rows[row.Key[0]][1] {
					t.Errorf("row %s: old %v new %v", row.Key[0], row.Old, row.New)
				}
			case "removed":
				if row.Old["amount"] != rows[row.Key[0]][2] {
					t.Errorf("removed row %s: %v", row.Key[0], row.Old)
				}
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("got %v\nwant %v", got, want)
		}
		if tbl.Added != 4 || tbl.Removed != 2 || tbl.Changed != 3 {
			t.Errorf("counts %d/%d/%d", tbl.Added, tbl.Removed, tbl.Changed)
		}
		// Six edits in a 3 MB table: a handful of chunks are read.
		if tbl.Stats.BytesRead*4 > tbl.Stats.BytesTotal || tbl.Stats.BytesParsed*20 > tbl.Stats.BytesTotal {
			t.Errorf("read %d, parsed %d of %d bytes", tbl.Stats.BytesRead, tbl.Stats.BytesParsed, tbl.Stats.BytesTotal)
		}
		return *tbl
	}
	check()       // HEAD against the worktree
	check("HEAD") // a revision against the worktree
	r.ok("commit", "-m", "v2")
	check("HEAD~1", "HEAD")
	// Paths limit the diff.
	if got := r.ok("diff", "--rows", "HEAD~1", "HEAD", "--", "notes.txt"); got != "notes.txt: modified (not a table)\n" {
		t.Errorf("path-limited diff: %q", got)
	}

	// CSV output reads back: one line per added/removed row, two per changed.
	recsOut, err := csv.NewReader(strings.NewReader(r.ok("diff", "--rows", "--format", "csv", "HEAD~1", "HEAD"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recsOut[0], []string{"_path", "_change", "id", "name", "amount", "note"}) || len(recsOut) != 1+4+2+2*3 {
		t.Fatalf("csv output: %q", recsOut)
	}
	var kinds []string
	for _, rec := range recsOut[1:] {
		kinds = append(kinds, rec[1])
	}
	sort.Strings(kinds)
	if strings.Join(kinds, ",") != "added,added,added,added,new,new,new,old,old,old,removed,removed" {
		t.Errorf("csv kinds: %v", kinds)
	}
	jl := strings.Split(strings.TrimSpace(r.ok("diff", "--rows", "--format", "jsonl", "HEAD~1", "HEAD")), "\n")
	if len(jl) != 9 {
		t.Errorf("jsonl: %d lines", len(jl))
	}
	for _, l := range jl {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil || m["path"] != "t.csv" {
			t.Errorf("jsonl line %q: %v", l, err)
		}
	}

	// Bad input: one clear line, non-zero exit, nothing changed.
	r.write("t.csv", out.String()+"z1,bad,row,with,too,many\n")
	wantLine := fmt.Sprintf("line %d", strings.Count(out.String(), "\n")+1)
	r.fails("t.csv: not a valid csv table (new version: "+wantLine+": wrong number of fields", "diff", "--rows")
	r.fails("unknown --format", "diff", "--rows", "--format", "xml")
	r.fails("--format needs --rows", "diff", "--format", "csv")
	r.write(".dxattributes", "*.csv table=xlsx\n")
	r.fails(`.dxattributes:1: unknown table format "xlsx"`, "diff", "--rows")
}

// TestRowDiffGolden pins the text, JSON and CSV output of a small diff.
func TestRowDiffGolden(t *testing.T) {
	r := newRepo(t)
	r.env = []string{"TZ=UTC", "DX_DATE=2026-01-02T03:04:05Z"}
	r.write(".dxattributes", "data/*.csv table=csv key=id\nevents.jsonl table=jsonl key=id\n")
	r.write("data/people.csv", "id,name,city\n1,Ann,Oslo\n2,Bob,\"Rio, BR\"\n3,Cy,Lima\n")
	r.write("events.jsonl", "{\"id\":1,\"kind\":\"a\",\"meta\":{\"x\":1}}\n{\"id\":2,\"kind\":\"b\"}\n")
	r.write("readme.txt", "hello\n")
	r.ok("commit", "-m", "v1")
	r.write("data/people.csv", "id,name,city\n1,Ann,Bergen\n3,Cy,Lima\n4,Di,\"multi\nline\"\n")
	r.write("events.jsonl", "{\"id\":1,\"meta\":{\"x\":2},\"kind\":\"a\"}\n{\"id\":2,\"kind\":\"b\"}\n{\"id\":3,\"kind\":\"c\"}\n")
	r.write("readme.txt", "hello again\n")
	r.ok("commit", "-m", "v2")
	check(t, "rows-diff.txt", r.ok("diff", "--rows", "HEAD~1", "HEAD"))
	check(t, "rows-diff.json", r.ok("diff", "--rows", "--json", "HEAD~1", "HEAD"))
	check(t, "rows-diff.csv", r.ok("diff", "--rows", "--format", "csv", "HEAD~1", "HEAD", "--", "data"))
	check(t, "rows-diff.jsonl", r.ok("diff", "--rows", "--format", "jsonl", "HEAD~1", "HEAD"))
}
