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
// and Go's csv tests): every file commits, a row is appended, and dx diff
// --rows, against the worktree and between commits, reports exactly the
// rows Python's reading of the two versions differs by: that row, field
// for field (where a quoted field is left open at the end of the file,
// the appended text joins it, as Python reads it).
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
			r.write(name, string(v1))
			r.ok("commit", "-m", "v1")

			var first pyDiff
			json.Unmarshal(python(t, pyRowDiff, r.path(name), r.path(name)), &first)
			row := python(t, pyAppendRow, itoa(len(first.Header)), itoa(seed))
			v2 := slices.Clone(v1)
			if !strings.HasSuffix(string(v1), "\n") && !strings.HasSuffix(string(v1), "\r") {
				v2 = append(v2, "\r\n"...) // end the last line first
			}
			v2 = append(v2, row...)
			r.write(name, string(v2))
			old := filepath.Join(t.TempDir(), "old.csv")
			if err := os.WriteFile(old, v1, 0o644); err != nil {
				t.Fatal(err)
			}
			var want pyDiff
			if err := json.Unmarshal(python(t, pyRowDiff, old, r.path(name)), &want); err != nil {
				t.Fatal(err)
			}
			if !openAtEnd[name] && (len(want.Added) != 1 || len(want.Removed) != 0) {
				t.Fatalf("python reads %q added, %q removed", want.Added, want.Removed)
			}
			check := func(args ...string) {
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
			check()
			r.ok("commit", "-m", "v2")
			check("HEAD~1", "HEAD")
		})
	}
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
