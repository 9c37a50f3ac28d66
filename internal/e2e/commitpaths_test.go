package e2e

import (
	"os"
	"testing"
)

// TestCommitPaths: `dx commit -m MSG PATH...` records those paths as the
// worktree has them (a file, a directory, a deletion) and nothing else; a
// path neither in the worktree nor in HEAD is refused, before and after
// the first commit.
func TestCommitPaths(t *testing.T) {
	r := newRepo(t)
	r.write("d/a.txt", "a\n")
	r.write("d/e/f.txt", "f\n")
	r.write("b.txt", "b\n")
	r.exits(exitError, "nope: path did not match any file", "commit", "-m", "x", "nope")
	r.ok("commit", "-q", "-m", "one", "d")
	status := func(want string) {
		t.Helper()
		if got := r.ok("status", "-s"); got != want {
			t.Fatalf("status:\n%s\nwant:\n%s", got, want)
		}
	}
	status("A b.txt\n")
	r.write("b.txt", "b2\n")
	r.write("d/a.txt", "a2\n")
	r.ok("commit", "-q", "-m", "two", "b.txt")
	status("M d/a.txt\n")
	if got := r.ok("cat", "HEAD:b.txt"); got != "b2\n" {
		t.Fatalf("HEAD:b.txt %q", got)
	}
	if got := r.ok("cat", "HEAD:d/a.txt"); got != "a\n" {
		t.Fatalf("HEAD:d/a.txt %q, want the first version", got)
	}
	if err := os.RemoveAll(r.path("d/e")); err != nil {
		t.Fatal(err)
	}
	r.ok("commit", "-q", "-m", "three", "d/e")
	status("M d/a.txt\n")
	r.fails("d/e/f.txt", "cat", "HEAD:d/e/f.txt")
	r.exits(exitError, "gone: path did not match any file", "commit", "-m", "x", "gone")
	r.fsckClean("--full")
}
