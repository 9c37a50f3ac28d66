package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/dxdata/dx/internal/faultinject"
)

// conflictOnF makes f conflict between main (O) and x (T), and starts
// the merge of x, which stops on the conflict.
func conflictOnF(t *testing.T, r *repoDir) {
	t.Helper()
	r.write("f", "a\n")
	r.ok("commit", "-qm", "b")
	r.ok("branch", "x")
	r.ok("checkout", "-q", "x")
	r.write("f", "T\n")
	r.ok("commit", "-qm", "t")
	r.ok("checkout", "-q", "main")
	r.write("f", "O\n")
	r.ok("commit", "-qm", "o")
	if res := r.run("merge", "x"); res.code == 0 {
		t.Fatal("the conflicting merge succeeded")
	}
}

// TestMergeContinueRefusesUnresolved: --continue refuses (exit 4, naming
// the path) while a conflict is not marked resolved, and commits nothing;
// checkout --theirs, or an edit marked with merge --resolved, resolves.
func TestMergeContinueRefusesUnresolved(t *testing.T) {
	r := newRepo(t)
	conflictOnF(t, r)
	head := r.ok("log", "--oneline", "-n", "1")
	res := r.fails("unresolved conflicts in f", "merge", "--continue")
	if res.code != exitConflicts {
		t.Fatalf("--continue: exit %d, want %d", res.code, exitConflicts)
	}
	if h := r.ok("log", "--oneline", "-n", "1"); h != head {
		t.Fatalf("--continue committed: %s", h)
	}
	if st := r.ok("status"); !strings.Contains(st, "unresolved: f") {
		t.Fatalf("status does not show f unresolved:\n%s", st)
	}
	r.fails("not a conflict", "merge", "--resolved", "nope")
	r.ok("checkout", "--theirs", "f")
	if st := r.ok("status"); !strings.Contains(st, "resolved:   f") || !strings.Contains(st, "0 of 1 conflicts unresolved") {
		t.Fatalf("status after checkout --theirs:\n%s", st)
	}
	r.ok("merge", "--continue")
	if got := r.ok("cat", "HEAD:f"); got != "T\n" {
		t.Fatalf("merge commit's f = %q, want theirs", got)
	}

	// An edit, marked resolved.
	r2 := newRepo(t)
	conflictOnF(t, r2)
	r2.write("f", "both\n")
	r2.fails("unresolved conflicts", "merge", "--continue")
	r2.ok("merge", "--resolved", "f")
	r2.ok("merge", "--continue")
	if got := r2.ok("cat", "HEAD:f"); got != "both\n" {
		t.Fatalf("merge commit's f = %q", got)
	}
}

// TestTrackedStaysTracked: a tracked file that .dxignore matches stays
// versioned (its edits commit, as git does); a file theirs added that
// .dxignore matches is kept by a conflicted merge's --continue and
// removed by --abort.
func TestTrackedStaysTracked(t *testing.T) {
	r := newRepo(t)
	r.write("data.log", "v1\n")
	r.ok("commit", "-m", "log")
	r.write(".dxignore", "*.log\n")
	r.write("other.log", "untracked\n")
	r.ok("commit", "-m", "ignore logs")
	r.write("data.log", "v2\n")
	if st := r.ok("status", "--short"); st != "M data.log\n" {
		t.Fatalf("status: %q, want data.log modified and other.log ignored", st)
	}
	r.ok("commit", "-m", "v2")
	if got := r.ok("cat", "HEAD:data.log"); got != "v2\n" {
		t.Fatalf("HEAD:data.log = %q", got)
	}
	os.Remove(r.path("other.log"))

	for _, finish := range []string{"continue", "abort"} {
		t.Run(finish, func(t *testing.T) {
			r := newRepo(t)
			r.write("f", "a\n")
			r.ok("commit", "-m", "base")
			r.ok("branch", "x")
			r.ok("checkout", "-q", "x")
			r.write("f", "T\n")
			r.write("run.log", "theirs' log\n")
			r.ok("commit", "-m", "t")
			r.ok("checkout", "-q", "main")
			r.write(".dxignore", "*.log\n")
			r.write("f", "O\n")
			r.ok("commit", "-m", "o")
			before := manifest(t, r.dir)
			if res := r.run("merge", "x"); res.code == 0 {
				t.Fatal("the conflicting merge succeeded")
			}
			if b, _ := os.ReadFile(r.path("run.log")); string(b) != "theirs' log\n" {
				t.Fatalf("the merge did not write run.log: %q", b)
			}
			if finish == "abort" {
				r.ok("merge", "--abort")
				if d := diffManifests(before, manifest(t, r.dir)); len(d) > 0 {
					t.Fatalf("abort did not restore the worktree exactly:\n%s", strings.Join(d, "\n"))
				}
				return
			}
			r.ok("checkout", "--ours", "f")
			r.ok("merge", "--continue")
			if got := r.ok("cat", "HEAD:run.log"); got != "theirs' log\n" {
				t.Fatalf("the merge commit lost run.log: %q", got)
			}
			if st := r.ok("status", "--short"); st != "" {
				t.Fatalf("status after the merge: %q", st)
			}
		})
	}
}

// TestContinueKilledKeepsReports: a --continue killed before its commit
// is durable leaves the conflict reports and the merge in progress; run
// again, it commits and removes them.
func TestContinueKilledKeepsReports(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	r.write("t.csv", "id,v\n1,a\n2,b\n")
	r.ok("commit", "-m", "base")
	r.ok("branch", "x")
	r.ok("checkout", "-q", "x")
	r.write("t.csv", "id,v\n1,T\n2,b\n")
	r.ok("commit", "-m", "t")
	r.ok("checkout", "-q", "main")
	r.write("t.csv", "id,v\n1,O\n2,b\n")
	r.ok("commit", "-m", "o")
	if res := r.run("merge", "x"); res.code == 0 {
		t.Fatal("the conflicting merge succeeded")
	}
	r.ok("merge", "--resolved", "t.csv")
	head := r.ok("log", "--oneline", "-n", "1")
	if !r.runKilled(faultinject.Fsync, 1, "merge", "--continue") {
		t.Fatal("--continue made no fsync")
	}
	if h := r.ok("log", "--oneline", "-n", "1"); h != head {
		t.Fatalf("a --continue killed at its first fsync committed: %s", h)
	}
	if _, err := os.Stat(r.path("t.csv.conflicts.csv")); err != nil {
		t.Fatalf("the report is gone though nothing was committed: %v", err)
	}
	r.ok("merge", "--continue")
	if _, err := os.Stat(r.path("t.csv.conflicts.csv")); !os.IsNotExist(err) {
		t.Fatalf("the report outlived the commit: %v", err)
	}
	r.ok("fsck")
}
