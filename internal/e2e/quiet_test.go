package e2e

import (
	"strings"
	"testing"
)

// TestQuiet: with -q, commands that change something print nothing on
// stdout when they succeed; merges print neither their summary nor the
// paths they changed, fast-forward or three-way. Conflicts are still
// listed, as git does: they are what the failure is about.
func TestQuiet(t *testing.T) {
	r := newRepo(t)
	quiet := func(args ...string) {
		t.Helper()
		if out := r.ok(append([]string{"-q"}, args...)...); out != "" {
			t.Errorf("dx -q %s printed %q", strings.Join(args, " "), out)
		}
	}
	// commitOn commits path on branch, quietly, and goes back to main.
	commitOn := func(branch, path, data string) {
		t.Helper()
		quiet("checkout", branch)
		r.write(path, data)
		quiet("commit", "-m", branch+" "+path)
		quiet("checkout", "main")
	}
	r.write("a.txt", "a\n")
	quiet("commit", "-m", "a")
	quiet("branch", "ff")
	quiet("branch", "side")
	commitOn("ff", "ff.txt", "ff\n")
	commitOn("side", "side.txt", "side\n")
	quiet("merge", "ff")
	quiet("merge", "side")
	if got := r.ok("cat", "HEAD:side.txt"); got != "side\n" {
		t.Fatalf("three-way merge lost side.txt: %q", got)
	}
	quiet("tag", "v1")
	quiet("branch", "-D", "ff")
	quiet("gc", "--prune")
	quiet("fsck")

	commitOn("side", "a.txt", "side\n")
	r.write("a.txt", "main\n")
	quiet("commit", "-m", "main a")
	res := r.run("-q", "merge", "side")
	if res.code != exitConflicts || !strings.Contains(res.stdout, "a.txt") {
		t.Fatalf("dx -q merge with a conflict: exit %d, stdout %q", res.code, res.stdout)
	}
}
