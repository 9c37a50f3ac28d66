package e2e

import (
	"os"
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

// TestCheckoutSideTakesOnlyConflicts: dx checkout --ours DIR during a
// merge takes ours' side of the conflicts under DIR only: what merged
// cleanly there (theirs' edit of d/x) and the user's edits (d/y) stay, and
// a path that is no conflict is an error that changes nothing.
func TestCheckoutSideTakesOnlyConflicts(t *testing.T) {
	r := newRepo(t)
	r.write("d/x", "x\n")
	r.write("d/y", "y\n")
	r.write("d/c", "c\n")
	r.ok("commit", "-m", "base")
	r.ok("branch", "side")
	r.ok("checkout", "side")
	r.write("d/x", "x theirs\n")
	r.write("d/c", "c theirs\n")
	r.ok("commit", "-m", "side")
	r.ok("checkout", "main")
	r.write("d/c", "c ours\n")
	r.ok("commit", "-m", "ours")
	r.fails("merge failed", "merge", "side")
	r.write("d/y", "y edited during the merge\n")
	before := manifest(t, r.dir)
	r.fails("not a conflict", "checkout", "--theirs", "d/x")
	if d := diffManifests(before, manifest(t, r.dir)); len(d) > 0 {
		t.Fatalf("a refused checkout --theirs changed the worktree: %v", d)
	}
	r.ok("checkout", "--ours", "d")
	r.ok("merge", "--continue")
	for p, want := range map[string]string{"d/x": "x theirs\n", "d/y": "y edited during the merge\n", "d/c": "c ours\n"} {
		if got := r.ok("cat", "HEAD:"+p); got != want {
			t.Errorf("merge commit's %s = %q, want %q", p, got, want)
		}
	}
}

// TestMergeAbortKeepsOtherEdits: merge --abort puts back what the merge
// wrote (theirs' d/x, the conflict in d/c) but keeps edits made during
// the merge to files it did not write, and new files.
func TestMergeAbortKeepsOtherEdits(t *testing.T) {
	r := newRepo(t)
	r.write("other.txt", "tracked\n")
	conflictOnF(t, r)
	r.write("other.txt", "edited during the merge\n")
	r.write("new.txt", "new during the merge\n")
	r.ok("merge", "--abort")
	for p, want := range map[string]string{"f": "O\n", "other.txt": "edited during the merge\n", "new.txt": "new during the merge\n"} {
		if b, err := os.ReadFile(r.path(p)); err != nil || string(b) != want {
			t.Errorf("after --abort %s = %q (%v), want %q", p, b, err, want)
		}
	}
}
