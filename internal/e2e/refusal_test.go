package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// refused runs dx, expecting a refusal: exit 3, a one-line error holding
// want, and the worktree and HEAD exactly as they were.
func (r *repoDir) refused(want string, args ...string) {
	r.t.Helper()
	before, head := manifest(r.t, r.dir), r.ok("log", "--oneline", "-n", "1")
	res := r.run(args...)
	checkFailure(r.t, res, want, args)
	if res.code != exitWorktree {
		r.t.Fatalf("dx %s: exit %d, want %d (refused)", strings.Join(args, " "), res.code, exitWorktree)
	}
	if d := diffManifests(before, manifest(r.t, r.dir)); len(d) > 0 {
		r.t.Fatalf("dx %s refused but changed the worktree:\n%s", strings.Join(args, " "), strings.Join(d, "\n"))
	}
	if h := r.ok("log", "--oneline", "-n", "1"); h != head {
		r.t.Fatalf("dx %s refused but HEAD moved: %q, was %q", strings.Join(args, " "), h, head)
	}
}

// TestRefusedCheckoutWritesNothing: going from a commit where p/ is a
// directory to one where p is a file, with an untracked (or ignored)
// p/u, checkout refuses before it removes p/q.
func TestRefusedCheckoutWritesNothing(t *testing.T) {
	r := newRepo(t)
	r.write("p", "a file\n")
	r.ok("commit", "-m", "p is a file")
	r.ok("branch", "dirs")
	r.ok("checkout", "dirs")
	os.Remove(r.path("p"))
	r.write("p/q", "q\n")
	r.ok("commit", "-m", "p is a directory")
	r.write("p/u", "untracked\n")
	r.refused("p/u", "checkout", "main")
	os.Remove(r.path("p/u"))
	r.write(".dxignore", "*.log\n")
	r.write("p/u.log", "ignored\n")
	r.refused("p/u.log", "checkout", "main")
	// An untracked file where a directory goes.
	os.Remove(r.path("p/u.log"))
	r.ok("checkout", "main")
	r.write("x", "untracked\n")
	r.ok("checkout", "-q", "dirs")
	r.ok("checkout", "-q", "main")
	r.ok("branch", "xdir")
	r.ok("checkout", "xdir")
	os.Remove(r.path("x"))
	r.write("x/y", "y\n")
	r.ok("commit", "-m", "x is a directory")
	r.ok("checkout", "main")
	r.write("x", "in the way\n")
	r.refused("x", "checkout", "xdir")
	r.ok("checkout", "--force", "xdir")
	if b, err := os.ReadFile(r.path("x/y")); err != nil || string(b) != "y\n" {
		t.Fatalf("forced checkout: x/y = %q, %v", b, err)
	}
}

// TestIgnoredFilesAreNotOverwritten: an ignored local file where the
// other side has a tracked file is neither overwritten by a checkout nor
// by a merge, which refuse, leave everything as it was and no merge in
// progress.
func TestIgnoredFilesAreNotOverwritten(t *testing.T) {
	r := newRepo(t)
	r.write("a.txt", "a\n")
	r.ok("commit", "-m", "a")
	r.ok("branch", "other")
	r.ok("checkout", "other")
	r.write("model.bin", "theirs\n")
	r.ok("commit", "-m", "model")
	r.ok("checkout", "main")
	r.write(".dxignore", "model.bin\n")
	r.ok("commit", "-m", "ignore")
	r.write("model.bin", "mine\n")
	if st := r.ok("status", "--short"); st != "" {
		t.Fatalf("model.bin is not ignored: %q", st)
	}
	r.refused("model.bin", "checkout", "other")
	r.refused("model.bin", "merge", "other")
	if st := r.ok("status"); strings.Contains(st, "erge") {
		t.Fatalf("a refused merge left a merge in progress:\n%s", st)
	}
	r.fails("no merge in progress", "merge", "--abort")
	os.Rename(r.path("model.bin"), r.path("../mine.bak"))
	r.ok("merge", "other")
	if b, _ := os.ReadFile(r.path("model.bin")); string(b) != "theirs\n" {
		t.Fatalf("merged model.bin = %q", b)
	}
}

// TestImmutableFileRefusesCheckout: a file (or directory) the checkout
// must change is immutable: it refuses before changing anything.
func TestImmutableFileRefusesCheckout(t *testing.T) {
	if _, err := exec.LookPath("chattr"); err != nil {
		t.Fatal("chattr (e2fsprogs) is needed: ", err)
	}
	r := newRepo(t)
	r.write("f", "f1\n")
	r.write("h", "h\n")
	r.write("d/x", "x1\n")
	r.ok("commit", "-m", "one")
	r.ok("branch", "other")
	r.ok("checkout", "other")
	r.write("f", "f2\n")
	r.write("g", "g\n")
	r.write("d/x", "x2\n")
	os.Remove(r.path("h"))
	r.ok("commit", "-m", "two")
	r.ok("checkout", "main")
	for _, p := range []string{"f", "d"} {
		chattr(t, "+i", r.path(p))
		r.refused(p, "checkout", "other")
		r.refused(p, "checkout", "--force", "other")
		chattr(t, "-i", r.path(p))
	}
	r.ok("checkout", "other")
	if st := r.ok("status", "--short"); st != "" {
		t.Fatalf("status after the checkout: %q", st)
	}
}

func chattr(t *testing.T, flag, p string) {
	t.Helper()
	if out, err := exec.Command("chattr", flag, p).CombinedOutput(); err != nil {
		t.Fatalf("chattr %s %s: %v: %s", flag, p, err, out)
	}
	if flag == "+i" {
		t.Cleanup(func() { exec.Command("chattr", "-i", p).Run() })
	}
}
