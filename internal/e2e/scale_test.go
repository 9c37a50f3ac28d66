package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestOneChangeInHugeDirectory: changing one file in a directory of N files
// commits < 1 MiB of new metadata, and diffing the two commits reads < 100
// objects, counted by the store. N is 20,000 in `make test`; set
// DX_E2E_FILES=1000000 for the full-size run.
func TestOneChangeInHugeDirectory(t *testing.T) {
	n := 20000
	if v := os.Getenv("DX_E2E_FILES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatal(err)
		}
	}
	r := newRepo(t)
	if err := os.MkdirAll(r.path("big"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := os.WriteFile(r.path(fmt.Sprintf("big/f%07d.txt", i)), []byte(strconv.Itoa(i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r.ok("commit", "-q", "-m", "many files")
	r.write(fmt.Sprintf("big/f%07d.txt", n/2), "changed")
	res := r.run("--stats", "commit", "-q", "-m", "one change")
	if res.code != 0 {
		t.Fatal(res.stderr)
	}
	stats := lastJSON(t, res.stderr)
	if stats["meta_bytes_stored"] >= 1<<20 {
		t.Fatalf("one change in %d files wrote %d bytes of metadata, want < 1 MiB", n, stats["meta_bytes_stored"])
	}
	t.Logf("%d files: one change wrote %d bytes of metadata (%d objects)", n, stats["meta_bytes_stored"], stats["meta_written"])
	res = r.run("--stats", "diff", "HEAD~1", "HEAD")
	if res.code != 0 {
		t.Fatal(res.stderr)
	}
	if want := fmt.Sprintf("M big/f%07d.txt\n", n/2); res.stdout != want {
		t.Fatalf("diff: %q want %q", res.stdout, want)
	}
	stats = lastJSON(t, res.stderr)
	if stats["objects_read"] >= 100 {
		t.Fatalf("diff read %d objects, want < 100", stats["objects_read"])
	}
	t.Logf("diff read %d objects", stats["objects_read"])
}

func lastJSON(t *testing.T, s string) map[string]int64 {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(s), "\n")
	var m map[string]int64
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
		t.Fatalf("stats line %q: %v", lines[len(lines)-1], err)
	}
	return m
}
