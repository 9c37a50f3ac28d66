package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/dxdata/dx/internal/faultinject"
)

// runKilled runs dx in r, killed by SIGKILL as it enters its n-th call of
// class (counted over all its threads, see internal/faultinject), and
// reports whether the kill happened (false: dx made fewer such calls).
func (r *repoDir) runKilled(class faultinject.Class, n int, args ...string) bool {
	r.t.Helper()
	rep, out, hung := runFaulted(r.t, faultTracer(r.t), r, faultinject.Plan{Class: class, N: n}, args)
	if hung {
		r.t.Fatalf("dx %v hung under %s#%d:\n%s", args, class, n, out)
	}
	return rep.Fired
}

// mergeFixture makes a repository with a table and files changed on two
// branches, main checked out, and returns the worktree a clean merge of
// theirs gives (made in a second repository from the same steps).
func mergeFixture(t *testing.T) (*repoDir, map[string]string) {
	t.Helper()
	build := func() *repoDir {
		r := newRepo(t)
		r.env = []string{"DX_DATE=2026-01-02T03:04:05Z"}
		r.write(".dxattributes", "*.csv table=csv key=id\n")
		var rows strings.Builder
		rows.WriteString("id,name,n\n")
		for i := 0; i < 200; i++ {
			fmt.Fprintf(&rows, "%d,row %d,%d\n", i, i, i*7)
		}
		r.write("t.csv", rows.String())
		r.write("keep.txt", "keep\n")
		r.write("gone.txt", "gone\n")
		r.ok("commit", "-m", "base")
		r.ok("branch", "theirs")
		r.ok("checkout", "theirs")
		r.write("t.csv", strings.Replace(rows.String(), "5,row 5,35\n", "5,row five,35\n", 1))
		r.write("theirs/new.txt", "new\n")
		os.Remove(r.path("gone.txt"))
		r.ok("commit", "-m", "theirs")
		r.ok("checkout", "main")
		r.write("t.csv", strings.Replace(rows.String(), "150,row 150,1050\n", "150,row 150,0\n", 1))
		r.ok("commit", "-m", "ours")
		return r
	}
	want := build()
	want.ok("merge", "theirs")
	return build(), manifest(t, want.dir)
}

// TestMergeKilledAtEachRename: a merge killed at any rename of its
// worktree update (after its commit and ref move, or before) leaves a
// repository whose next command shows it before or after the merge,
// never the pre-merge files as edits a commit would record.
func TestMergeKilledAtEachRename(t *testing.T) {
	for n := 1; ; n++ {
		r, want := mergeFixture(t)
		before := manifest(t, r.dir)
		if !r.runKilled(faultinject.Rename, n, "merge", "theirs") {
			if n < 2 {
				t.Fatal("the merge made no rename")
			}
			break
		}
		st := r.ok("status", "--short")
		if st != "" {
			t.Fatalf("kill at rename #%d: status shows changes a commit would record:\n%s", n, st)
		}
		got := manifest(t, r.dir)
		merged := strings.Contains(r.ok("log", "--oneline", "-n", "1"), "Merge")
		switch {
		case merged && len(diffManifests(want, got)) == 0:
		case !merged && len(diffManifests(before, got)) == 0:
		default:
			t.Fatalf("kill at rename #%d: worktree neither before nor after (merged=%v):\n%s", n, merged,
				strings.Join(append(diffManifests(want, got), diffManifests(before, got)...), "\n"))
		}
		r.ok("fsck")
		if !merged {
			r.ok("merge", "theirs")
		}
		if d := diffManifests(want, manifest(t, r.dir)); len(d) > 0 {
			t.Fatalf("kill at rename #%d: retried merge differs:\n%s", n, strings.Join(d, "\n"))
		}
	}
}

// TestCheckoutKilledAtEachRenameAndUnlink: likewise for a checkout,
// which the next command finishes, HEAD included, once its journal is
// written. (A kill between a rename that swaps a file in and the removal
// of the old one, now under the temporary name, once put the old file
// back.)
func TestCheckoutKilledAtEachRenameAndUnlink(t *testing.T) {
	for _, class := range []faultinject.Class{faultinject.Rename, faultinject.Unlink} {
		for n := 1; ; n++ {
			r, _ := mergeFixture(t)
			r.ok("checkout", "theirs")
			want := manifest(t, r.dir)
			r.ok("checkout", "main")
			before := manifest(t, r.dir)
			if !r.runKilled(class, n, "checkout", "theirs") {
				break
			}
			r.beforeOrAfter(fmt.Sprintf("kill at %s #%d", class, n), "main", before, "theirs", want)
		}
	}
}

// TestCheckoutIntoNewDirsKilled: a checkout that makes whole directories
// (written under a temporary name, then renamed into place) killed at
// any write, rename or removal leaves a repository whose next command
// shows it before or after, with no temporary directory left behind, and
// a retry completes it; uninterrupted, it makes one rename a directory,
// not one a file.
func TestCheckoutIntoNewDirsKilled(t *testing.T) {
	build := func() *repoDir {
		r := newRepo(t)
		r.write("a.txt", "a\n")
		r.ok("commit", "-m", "a")
		r.ok("branch", "more")
		r.ok("checkout", "more")
		for i := range 12 {
			r.write(fmt.Sprintf("d/e/%d.txt", i), strings.Repeat(fmt.Sprint(i), 100+i))
		}
		r.write("d/f/g/x.bin", strings.Repeat("x", 70000))
		r.write("h/y.txt", "y\n")
		r.ok("commit", "-m", "more")
		return r
	}
	r := build()
	want := manifest(t, r.dir)
	r.ok("checkout", "main")
	before := manifest(t, r.dir)
	rep, out, _ := runFaulted(t, faultTracer(t), r, faultinject.Plan{Class: faultinject.Rename, N: 1 << 30}, []string{"checkout", "more"})
	if rep.Fired {
		t.Fatalf("counting renames killed the checkout:\n%s", out)
	}
	// Two directories made whole (d and h): two renames for 14 files,
	// and the journal's and the stat cache's own.
	t.Logf("renames: %d", rep.Calls)
	if rep.Calls < 2 || rep.Calls >= 14 {
		t.Fatalf("checkout into new directories made %d renames, want fewer than one a file", rep.Calls)
	}
	if d := diffManifests(want, manifest(t, r.dir)); len(d) > 0 {
		t.Fatalf("checkout differs:\n%s", strings.Join(d, "\n"))
	}
	for _, class := range []faultinject.Class{faultinject.Write, faultinject.Rename, faultinject.Unlink} {
		for n := 1; ; n++ {
			r := build()
			r.ok("checkout", "main")
			if !r.runKilled(class, n, "checkout", "more") {
				break
			}
			what := fmt.Sprintf("kill at %s #%d", class, n)
			if !r.beforeOrAfter(what, "main", before, "more", want) {
				r.ok("checkout", "more")
				if d := diffManifests(want, manifest(t, r.dir)); len(d) > 0 {
					t.Fatalf("%s: retried checkout differs:\n%s", what, strings.Join(d, "\n"))
				}
			}
			r.ok("fsck")
		}
	}
}

// beforeOrAfter checks, after a killed checkout from branch from (its
// worktree before) to branch to (after), that status shows no change and
// that the branch and the worktree are both before or both after; it
// reports which.
func (r *repoDir) beforeOrAfter(what, from string, before map[string]string, to string, after map[string]string) bool {
	r.t.Helper()
	if st := r.ok("status", "--short"); st != "" {
		r.t.Fatalf("%s: status shows changes:\n%s", what, st)
	}
	got := manifest(r.t, r.dir)
	switch br := r.ok("branch"); {
	case strings.Contains(br, "* "+to) && len(diffManifests(after, got)) == 0:
		return true
	case strings.Contains(br, "* "+from) && len(diffManifests(before, got)) == 0:
		return false
	default:
		r.t.Fatalf("%s: neither before nor after:\n%s\n%s", what, br,
			strings.Join(append(diffManifests(after, got), diffManifests(before, got)...), "\n"))
		return false
	}
}
