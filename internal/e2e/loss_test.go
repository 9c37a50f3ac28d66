package e2e

import (
	"strings"
	"testing"
)

// TestGCKeepsMergeInProgress: a merge stopped on conflicts whose other
// side is on no branch any more (deleted with -D) survives gc --prune:
// its side can still be taken and the merge committed.
func TestGCKeepsMergeInProgress(t *testing.T) {
	r := newRepo(t)
	conflictOnF(t, r)
	r.ok("branch", "-D", "x")
	r.ok("gc", "--prune")
	r.ok("checkout", "--theirs", "f")
	r.ok("merge", "--continue")
	r.ok("fsck", "--full")
	if got := r.ok("cat", "HEAD^2:f"); got != "T\n" {
		t.Fatalf("theirs after gc: %q", got)
	}
}

// TestGCKeepsDetachedCommits: commits made on a detached HEAD, left
// behind by a checkout, survive gc --prune (HEAD's reflog keeps them) and
// the checkout says how to keep them.
func TestGCKeepsDetachedCommits(t *testing.T) {
	r := newRepo(t)
	r.write("a.txt", "a\n")
	r.ok("commit", "-m", "one")
	id := strings.Fields(r.ok("log", "--oneline", "-n", "1"))[0]
	r.ok("checkout", id)
	r.write("detached.txt", "work on no branch\n")
	r.ok("commit", "-m", "detached work")
	work := strings.Fields(r.ok("log", "--oneline", "-n", "1"))[0]
	res := r.run("checkout", "main")
	if res.code != 0 || !strings.Contains(res.stderr, "dx branch NAME "+work) {
		t.Fatalf("checkout leaving a detached commit: exit %d, stderr %q", res.code, res.stderr)
	}
	// Leaving a detached HEAD that a branch holds says nothing.
	r.ok("checkout", id)
	if res := r.run("checkout", "main"); res.stderr != "" {
		t.Fatalf("checkout leaving a commit on main warned: %q", res.stderr)
	}
	r.ok("gc", "--prune")
	r.ok("fsck", "--full")
	if got := r.ok("cat", work+":detached.txt"); got != "work on no branch\n" {
		t.Fatalf("detached commit after gc: %q", got)
	}
}
