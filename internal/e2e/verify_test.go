package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestCommitRefusesInvalidTables: a file .dxattributes declares a table
// that does not parse, lacks its key or repeats a key is refused with
// path:line: reason and exit 7, nothing committed; so is a broken
// .dxattributes.
func TestCommitRefusesInvalidTables(t *testing.T) {
	for _, tc := range []struct {
		name, attrs, file, data, want string
	}{
		// A quote left open runs to the end of the file (as Python's csv
		// reads it): here it leaves a row of one field.
		{"unterminated quote", "*.csv table=csv key=id\n", "t.csv", "id,v\n1,a\n\"2,open\n3,c\n", "t.csv:3: wrong number of fields"},
		{"ragged row", "*.csv table=csv key=id\n", "t.csv", "id,v\n1,a\n2,b,extra\n", "t.csv:3: wrong number of fields"},
		{"ragged tsv", "*.tsv table=tsv key=id\n", "t.tsv", "id\tv\n1\ta\n2\n", "t.tsv:3: 1 fields, the header has 2"},
		{"missing key column", "*.csv table=csv key=id\n", "t.csv", "x,v\n1,a\n", `t.csv:1: key column "id" is not in the header`},
		{"duplicate key", "*.csv table=csv key=id\n", "t.csv", "id,v\n1,a\n2,b\n1,c\n", `t.csv:4: duplicate key "1" (first on line 2)`},
		{"duplicate composite key", "*.csv table=csv key=a,b\n", "t.csv", "a,b,v\n1,x,a\n1,y,b\n1,x,c\n", `t.csv:4: duplicate key "1,x"`},
		{"jsonl repeated field", "*.jsonl table=jsonl key=id\n", "e.jsonl", "{\"id\":1}\n{\"id\":2,\"v\":1,\"v\":2}\n", `e.jsonl:2: field "v" appears twice`},
		{"jsonl missing key", "*.jsonl table=jsonl key=id\n", "e.jsonl", "{\"id\":1}\n{\"x\":2}\n", `e.jsonl:2: no key field "id"`},
		{"jsonl not an object", "*.jsonl table=jsonl key=id\n", "e.jsonl", "{\"id\":1}\n[1]\n", "e.jsonl:2: not a JSON object"},
		{"unknown format", "*.csv table=xls key=id\n", "t.csv", "id\n1\n", ".dxattributes:1: unknown table format"},
		{"broken pattern", "[ table=csv\n", "t.csv", "id\n1\n", ".dxattributes:1: bad pattern"},
		{"nul", "*.csv table=csv\x00 key=id\n", "t.csv", "id\n1\n", ".dxattributes:1: a NUL byte"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRepo(t)
			r.write("keep.txt", "keep\n")
			r.ok("commit", "-m", "first")
			r.write(".dxattributes", tc.attrs)
			r.write(tc.file, tc.data)
			head := r.ok("log", "--oneline")
			res := r.fails(tc.want, "commit", "-m", "bad")
			if res.code != exitInvalidData {
				t.Fatalf("exit %d, want %d: %s", res.code, exitInvalidData, res.stderr)
			}
			if !strings.Contains(res.stderr, "--no-verify") {
				t.Errorf("the error does not say how to store it anyway: %s", res.stderr)
			}
			if h := r.ok("log", "--oneline"); h != head {
				t.Fatalf("a refused commit moved HEAD: %s", h)
			}
			// Stored as bytes on request, and the commit says so.
			out := r.ok("commit", "--no-verify", "-m", "as bytes", "--json")
			var res2 struct{ Unverified bool }
			if err := json.Unmarshal([]byte(out), &res2); err != nil || !res2.Unverified {
				t.Fatalf("commit --no-verify --json: %v %s", err, out)
			}
			if show := r.ok("show", "--json"); !strings.Contains(show, "dx.unverified") {
				t.Fatalf("show does not say the commit is unverified: %s", show)
			}
			r.ok("fsck")
		})
	}
}

// TestUnverifiedTableHistory: after a --no-verify commit of a table that
// does not parse, row commands say so in one line, and file-level diff,
// checkout and merge work (a table changed on both sides of which one
// does not parse merges as a file: a conflict to resolve).
func TestUnverifiedTableHistory(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	r.write("t.csv", "id,v\n1,a\n2,b\n")
	r.ok("commit", "-m", "good")
	r.ok("branch", "side")
	r.write("t.csv", "id,v\n1,a\n2,b,extra\n")
	r.ok("commit", "--no-verify", "-m", "bad")
	res := r.fails("not a valid csv table", "diff", "--rows", "HEAD~1", "HEAD")
	if !strings.Contains(res.stderr, "t.csv") || !strings.Contains(res.stderr, "line 3") {
		t.Fatalf("diff --rows: %s", res.stderr)
	}
	if out := r.ok("diff", "--name-only", "HEAD~1", "HEAD"); out != "t.csv\n" {
		t.Fatalf("file diff: %q", out)
	}
	r.ok("checkout", "side")
	r.write("t.csv", "id,v\n1,A\n2,b\n")
	r.ok("commit", "-m", "side edit")
	res = r.run("merge", "main")
	if res.code != exitConflicts || !strings.Contains(res.stdout, "t.csv") {
		t.Fatalf("merge with an unparsable side: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	r.ok("checkout", "--ours", "t.csv")
	r.ok("merge", "--continue")
	if got := r.ok("cat", "HEAD:t.csv"); got != "id,v\n1,A\n2,b\n" {
		t.Fatalf("merged t.csv: %q", got)
	}
	// Fixing the table makes it checked again, whole.
	r.ok("checkout", "main")
	r.write("t.csv", "id,v\n1,a\n2,b\n3,c\n")
	r.ok("commit", "-m", "fixed")
}

// TestCommitChecksOnlyWhatChanged: appending rows to a large table checks
// the appended rows (and the chunks whose key ranges could hold their
// keys), not the table; an appended row repeating an old key is found.
func TestCommitChecksOnlyWhatChanged(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	var b strings.Builder
	b.WriteString("id,name,amount\n")
	for i := 1; i <= 60000; i++ {
		fmt.Fprintf(&b, "%d,name %d with some padding text,%d.%02d\n", i, i, i*3, i%100)
	}
	table := b.String()
	r.write("t.csv", table)
	var first struct {
		Verified struct {
			Tables    int   `json:"tables_checked"`
			BytesRead int64 `json:"table_bytes_checked"`
		}
	}
	if err := json.Unmarshal([]byte(r.ok("commit", "-m", "v1", "--json")), &first); err != nil {
		t.Fatal(err)
	}
	if first.Verified.Tables != 1 || first.Verified.BytesRead < int64(len(table)) {
		t.Fatalf("first commit checked %+v, want the whole table (%d bytes)", first.Verified, len(table))
	}
	appended := table + "60001,new row,1.00\n60002,new row,2.00\n"
	r.write("t.csv", appended)
	var second = first
	if err := json.Unmarshal([]byte(r.ok("commit", "-m", "append", "--json")), &second); err != nil {
		t.Fatal(err)
	}
	if second.Verified.BytesRead > int64(len(table))/10 {
		t.Fatalf("checking an append read %d bytes of a %d-byte table", second.Verified.BytesRead, len(table))
	}
	// An appended row whose key is in an old chunk far above.
	r.write("t.csv", appended+"17,again,0.00\n")
	res := r.fails(`t.csv:60004: duplicate key "17"`, "commit", "-m", "dup")
	if res.code != exitInvalidData {
		t.Fatalf("exit %d, want %d", res.code, exitInvalidData)
	}
	// A middle row changed in place is checked, and bad.
	r.write("t.csv", strings.Replace(appended, "\n30000,name 30000 with some padding text,90000.00\n", "\n30000,broken,x,extra\n", 1))
	r.fails("t.csv:30001: ", "commit", "-m", "broken")
	os.Remove(r.path("t.csv"))
	r.write("t.csv", appended)
	if st := r.ok("status", "--short"); st != "" {
		t.Fatalf("status: %q", st)
	}
}
