package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// requirePython returns the path of python3, whose csv module is the
// oracle of the CSV tests. It skips without it, and fails under
// DX_REQUIRE_PYTHON=1 (make test, CI).
func requirePython(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("DX_REQUIRE_PYTHON") == "1" {
			t.Fatalf("python3 is required (DX_REQUIRE_PYTHON=1): %v", err)
		}
		t.Skipf("python3 not found: %v", err)
	}
	return py
}

// pyRowDiff reads two versions of a CSV file with Python's csv module
// (default 'excel' dialect, newline="", a UTF-8 BOM dropped, empty
// records skipped, the first record the header) and prints the header
// and the rows of new not in old and of old not in new, as multisets.
const pyRowDiff = `
import csv, json, sys
from collections import Counter
def read(p):
    with open(p, newline='', encoding='utf-8-sig') as f:
        recs = [r for r in csv.reader(f) if r]
    return recs[0], Counter(tuple(r) for r in recs[1:])
h, old = read(sys.argv[1])
_, new = read(sys.argv[2])
print(json.dumps({"header": h, "added": [list(r) for r in (new - old).elements()],
                  "removed": [list(r) for r in (old - new).elements()]}))
`

// pyAppendRow prints a row of n fields (a pick of awkward values, from
// seed) as Python's csv writer writes it.
const pyAppendRow = `
import csv, sys
vals = ['37°36\'37.8"N', 'a,b', 'say "hi"', 'multi\nline', '', ' lead', 'x\r\ny', '"', 'plain']
n, seed = int(sys.argv[1]), int(sys.argv[2])
csv.writer(sys.stdout, lineterminator='\r\n').writerow([vals[(seed + 2*i) % len(vals)] for i in range(n)])
`

// openAtEnd are the corpus files that end inside a quoted field: what is
// appended joins it (for Python and dx alike).
var openAtEnd = map[string]bool{"py-read-eof.csv": true, "py-read-eof-open-field.csv": true, "go-odd-quotes.csv": true}

type pyDiff struct {
	Header         []string
	Added, Removed [][]string
}

// TestCSVCorpus checks dx's reading of CSV against Python's csv module on
// an outside corpus of edge cases (testdata/csvcorpus: RFC 4180, CPython's
// and Go's csv tests). Every file commits after its header alone, and dx
// diff --rows reports its rows as added, field for field as Python reads
// them; then a row is appended, and dx diff --rows, against the worktree
// and between commits, reports exactly the rows Python's reading of the
// two versions differs by: that row (where a quoted field is left open at
// the end of the file, the appended text joins it, as Python reads it).
func TestCSVCorpus(t *testing.T) {
	py := requirePython(t)
	files, err := filepath.Glob(filepath.Join("testdata", "csvcorpus", "*.csv"))
	if err != nil || len(files) < 30 {
		t.Fatalf("corpus: %d files, %v", len(files), err)
	}
	python := func(t *testing.T, script string, args ...string) []byte {
		t.Helper()
		out, err := exec.Command(py, append([]string{"-c", script}, args...)...).Output()
		if err != nil {
			t.Fatalf("python3: %v", err)
		}
		return out
	}
	for seed, file := range files {
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, ".csv"), func(t *testing.T) {
			v1, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			r := newRepo(t)
			r.write(".dxattributes", "*.csv table=csv\n")
			dir := t.TempDir()
			pyDiffOf := func(old, new []byte) pyDiff {
				t.Helper()
				a, b := filepath.Join(dir, "old.csv"), filepath.Join(dir, "new.csv")
				if os.WriteFile(a, old, 0o644) != nil || os.WriteFile(b, new, 0o644) != nil {
					t.Fatal("writing the versions")
				}
				var d pyDiff
				if err := json.Unmarshal(python(t, pyRowDiff, a, b), &d); err != nil {
					t.Fatal(err)
				}
				return d
			}
			check := func(want pyDiff, args ...string) {
				t.Helper()
				var ds []rowDiffJSON
				out := r.ok(append([]string{"diff", "--rows", "--json"}, args...)...)
				if err := json.Unmarshal([]byte(out), &ds); err != nil {
					t.Fatalf("%s: %v", out, err)
				}
				if len(ds) != 1 || !ds[0].Table {
					t.Fatalf("diff: %s", out)
				}
				var added, removed [][]string
				for _, row := range ds[0].Rows {
					m := row.New
					if row.Change == "removed" {
						m = row.Old
					}
					var rec []string
					for _, c := range want.Header {
						rec = append(rec, m[c])
					}
					if len(m) != len(want.Header) {
						t.Errorf("row %v: columns are not the header %q", m, want.Header)
					}
					switch row.Change {
					case "added":
						added = append(added, rec)
					case "removed":
						removed = append(removed, rec)
					default:
						t.Errorf("a %s row: %v", row.Change, row)
					}
				}
				if !sameRecs(added, want.Added) || !sameRecs(removed, want.Removed) {
					t.Fatalf("dx: added %q removed %q\npython: added %q removed %q", added, removed, want.Added, want.Removed)
				}
			}

			// The header alone, then the file: every row of it is added.
			v0 := v1[:headerLineEnd(v1)]
			r.write(name, string(v0))
			r.ok("commit", "-m", "v0")
			r.write(name, string(v1))
			r.ok("commit", "-m", "v1")
			check(pyDiffOf(v0, v1), "HEAD~1", "HEAD")

			// A row appended.
			first := pyDiffOf(v1, v1)
			row := python(t, pyAppendRow, itoa(len(first.Header)), itoa(seed))
			v2 := slices.Clone(v1)
			if !strings.HasSuffix(string(v1), "\n") && !strings.HasSuffix(string(v1), "\r") {
				v2 = append(v2, "\r\n"...) // end the last line first
			}
			v2 = append(v2, row...)
			r.write(name, string(v2))
			want := pyDiffOf(v1, v2)
			if !openAtEnd[name] && (len(want.Added) != 1 || len(want.Removed) != 0) {
				t.Fatalf("python reads %q added, %q removed", want.Added, want.Removed)
			}
			check(want)
			r.ok("commit", "-m", "v2")
			check(want, "HEAD~1", "HEAD")
		})
	}
}

// headerLineEnd is the length of data's first line with its line end (the
// corpus files' headers are plain).
func headerLineEnd(data []byte) int {
	for i, c := range data {
		switch {
		case c == '\n':
			return i + 1
		case c == '\r' && i+1 < len(data) && data[i+1] == '\n':
			return i + 2
		case c == '\r':
			return i + 1
		}
	}
	return len(data)
}

func sameRecs(a, b [][]string) bool {
	key := func(rs [][]string) []string {
		var ks []string
		for _, r := range rs {
			ks = append(ks, strings.Join(r, "\x00"))
		}
		slices.Sort(ks)
		return ks
	}
	return slices.Equal(key(a), key(b))
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
