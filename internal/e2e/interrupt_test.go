package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// requireStrace returns strace's path: the fault-injection tests need it,
// and fail without it under make test (DX_REQUIRE_MINIO=1).
func requireStrace(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("strace")
	if err != nil {
		if os.Getenv("DX_REQUIRE_MINIO") == "1" {
			t.Fatal("strace is needed (make test installs it with scripts/tools.sh): ", err)
		}
		t.Skip("strace not installed")
	}
	return p
}

// runKilled runs dx under strace, killed by SIGKILL at the n-th call of
// syscall, and reports whether the kill happened.
func (r *repoDir) runKilled(strace, syscall string, n int, args ...string) bool {
	r.t.Helper()
	sargs := append([]string{"-f", "-qq", "-o", "/dev/null", "-e", fmt.Sprintf("inject=%s:signal=SIGKILL:when=%d", syscall, n), dxBin}, args...)
	cmd := exec.Command(strace, sargs...)
	cmd.Dir = r.dir
	cmd.Env = append(append(os.Environ(), "DX_AUTHOR=Test <test@example.com>"), r.env...)
	out, err := cmd.CombinedOutput()
	if err == nil {
		return false
	}
	if !strings.Contains(string(out), "Killed") && !strings.Contains(err.Error(), "signal: killed") && !strings.Contains(string(out), "+++ killed by SIGKILL") {
		// strace exits with the killed child's status.
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 137 {
			r.t.Fatalf("strace %v: %v\n%s", args, err, out)
		}
	}
	return true
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
	strace := requireStrace(t)
	for n := 1; ; n++ {
		r, want := mergeFixture(t)
		before := manifest(t, r.dir)
		if !r.runKilled(strace, "renameat2", n, "merge", "theirs") {
			if n < 2 {
				t.Fatal("the merge made no renameat2 call")
			}
			break
		}
		st := r.ok("status", "--short")
		if st != "" {
			t.Fatalf("kill at renameat2 #%d: status shows changes a commit would record:\n%s", n, st)
		}
		got := manifest(t, r.dir)
		merged := strings.Contains(r.ok("log", "--oneline", "-n", "1"), "Merge")
		switch {
		case merged && len(diffManifests(want, got)) == 0:
		case !merged && len(diffManifests(before, got)) == 0:
		default:
			t.Fatalf("kill at renameat2 #%d: worktree neither before nor after (merged=%v):\n%s", n, merged,
				strings.Join(append(diffManifests(want, got), diffManifests(before, got)...), "\n"))
		}
		r.ok("fsck")
		if !merged {
			r.ok("merge", "theirs")
		}
		if d := diffManifests(want, manifest(t, r.dir)); len(d) > 0 {
			t.Fatalf("kill at renameat2 #%d: retried merge differs:\n%s", n, strings.Join(d, "\n"))
		}
	}
}

// TestCheckoutKilledAtEachRename: likewise for a checkout, which the next
// command finishes, HEAD included.
func TestCheckoutKilledAtEachRename(t *testing.T) {
	strace := requireStrace(t)
	for n := 1; ; n++ {
		r, _ := mergeFixture(t)
		r.ok("checkout", "theirs")
		want := manifest(t, r.dir)
		r.ok("checkout", "main")
		if !r.runKilled(strace, "renameat2", n, "checkout", "theirs") {
			break
		}
		if st := r.ok("status", "--short"); st != "" {
			t.Fatalf("kill at renameat2 #%d: status shows changes:\n%s", n, st)
		}
		if br := r.ok("branch"); !strings.Contains(br, "* theirs") {
			t.Fatalf("kill at renameat2 #%d: the finished checkout did not move HEAD:\n%s", n, br)
		}
		if d := diffManifests(want, manifest(t, r.dir)); len(d) > 0 {
			t.Fatalf("kill at renameat2 #%d: worktree differs from theirs:\n%s", n, strings.Join(d, "\n"))
		}
	}
}
