package e2e

import (
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

// goldenDir is testdata/golden at the top of the repository.
func goldenDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "golden")
}

// TestGoldenOutput pins what users and scripts read: the text and JSON
// output of the listing commands for a fixed history. Author and date are
// pinned (DX_AUTHOR, DX_DATE), so commit IDs are reproducible too: a change
// in any object encoding shows up here.
func TestGoldenOutput(t *testing.T) {
	r := newRepo(t)
	r.env = []string{"TZ=UTC", "DX_DATE=2026-01-02T03:04:05Z"}
	var rows strings.Builder
	rows.WriteString("id,name,score\n")
	for i := 1; i <= 500; i++ {
		rows.WriteString(strings.Repeat("x", i%7) + "," + "name" + strings.Repeat("y", i%5) + ",1\n")
	}
	r.write("data/table.csv", rows.String())
	r.write("notes.txt", "first notes\n")
	r.write("models/readme.md", "# models\n")
	r.write("bin/blob.bin", strings.Repeat("\x00\x01\x02\x03", 3000))

	type step struct {
		name string
		args []string
	}
	record := func(steps ...step) {
		for _, s := range steps {
			got := r.ok(s.args...)
			if s.name != "" {
				check(t, s.name, got)
			}
		}
	}
	record(step{"", []string{"commit", "-m", "Import data"}},
		step{"", []string{"branch", "feature"}},
		step{"", []string{"checkout", "feature"}})

	r.env = []string{"TZ=UTC", "DX_DATE=@1767326645"}
	r.write("data/table.csv", strings.Replace(rows.String(), "xx,nameyy,1\n", "xx,nameyy,2\n", 1)+"xyz,new,3\n")
	if err := os.Remove(r.path("notes.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(r.path("bin/blob.bin"), r.path("bin/renamed.bin")); err != nil {
		t.Fatal(err)
	}
	r.write("added.txt", "new file\n")
	record(step{"status.txt", []string{"status"}},
		step{"status.json", []string{"status", "--json"}},
		step{"", []string{"commit", "-m", "Edit the table\n\nOne row changed, one added."}},
		step{"log.txt", []string{"log"}},
		step{"log-oneline.txt", []string{"log", "--oneline", "--graph", "--all"}},
		step{"log.json", []string{"log", "--json"}},
		step{"diff-stat.txt", []string{"diff", "--stat", "main", "feature"}},
		step{"diff.json", []string{"diff", "--json", "main", "feature"}},
		step{"show.txt", []string{"show", "feature~1"}},
		step{"branch.json", []string{"branch", "--json"}},
	)
}

func check(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(goldenDir(), name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/e2e -run TestGoldenOutput -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}
