package e2e

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestRacyClean: the stat cache trusts a file written by a checkout or
// read by a commit only while the file system's clock shows it unchanged
// since. A file rewritten at once, keeping its size, is still seen as
// changed, big (the checkout's wait for the clock) or small; and files
// left alone are not read again.
func TestRacyClean(t *testing.T) {
	r := newRepo(t)
	// Over the 32 MiB above which a checkout waits for the clock.
	big := func(b string) string { return strings.Repeat(b+"0123456789abcdef", 36<<20/17) }
	r.write("big.bin", big("a"))
	r.write("small.txt", "version a\n")
	r.ok("commit", "-m", "a")
	r.write("big.bin", big("b"))
	r.write("small.txt", "version b\n")
	r.ok("commit", "-m", "b")

	filesRead := func() float64 {
		t.Helper()
		var st map[string]any
		if err := json.Unmarshal([]byte(r.ok("status", "--json")), &st); err != nil {
			t.Fatal(err)
		}
		return st["files_read"].(float64)
	}
	// Rewrites one byte of each file in place: same size, same inode.
	touch := func(b byte) {
		t.Helper()
		for _, p := range []string{"big.bin", "small.txt"} {
			f, err := os.OpenFile(r.path(p), os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteAt([]byte{b}, 8); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
	for i, rev := range []string{"main~1", "main", "main~1", "main", "main~1", "main"} {
		r.ok("checkout", "--force", rev)
		if i%2 == 0 {
			if n := filesRead(); n != 0 {
				t.Fatalf("status right after checkout %d read %v files, want 0", i, n)
			}
		}
		touch('X')
		if st := r.ok("status", "--short"); st != "M big.bin\nM small.txt\n" {
			t.Fatalf("round %d: a file rewritten right after the checkout: status %q", i, st)
		}
	}
	// After a commit: recorded as read, then rewritten at once.
	r.ok("commit", "-m", "c")
	touch('Y')
	if st := r.ok("status", "--short"); st != "M big.bin\nM small.txt\n" {
		t.Fatalf("a file rewritten right after the commit: status %q", st)
	}
	r.ok("commit", "-m", "d")
	if n := filesRead(); n != 0 {
		t.Fatalf("status right after a commit read %v files, want 0", n)
	}
}
