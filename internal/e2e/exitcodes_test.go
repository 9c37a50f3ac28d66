package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The exit codes the README documents, one situation each.
const (
	exitError          = 1
	exitUsage          = 2
	exitWorktree       = 3
	exitConflicts      = 4
	exitNotFastForward = 5
	exitLocked         = 6
	exitInvalidData    = 7
	exitDamaged        = 8
	exitSIGINT         = 130
	exitSIGTERM        = 143
)

// exits runs dx and checks its exit code and that its one-line error
// holds want.
func (r *repoDir) exits(code int, want string, args ...string) result {
	r.t.Helper()
	res := r.fails(want, args...)
	if res.code != code {
		r.t.Fatalf("dx %s: exit %d, want %d: %s", strings.Join(args, " "), res.code, code, res.stderr)
	}
	return res
}

func TestExitUsage(t *testing.T) {
	r := newRepo(t)
	r.exits(exitUsage, "commit needs a message", "commit")
	r.exits(exitUsage, "unknown flag", "log", "--no-such-flag")
	r.exits(exitUsage, "accepts at most 1 arg", "show", "a", "b")
}

func TestExitError(t *testing.T) {
	res := runDx(t, t.TempDir(), nil, "status")
	checkFailure(t, res, "not a dx repository", []string{"status"})
	if res.code != exitError {
		t.Fatalf("status outside a repository: exit %d, want %d", res.code, exitError)
	}
	r := newRepo(t)
	r.exits(exitError, "unknown revision", "checkout", "nowhere")
}

// TestExitWorktree: a checkout or merge that would overwrite a local
// change, or an untracked file in the way, is refused with 3.
func TestExitWorktree(t *testing.T) {
	r := newRepo(t)
	r.write("f", "one\n")
	r.ok("commit", "-qm", "one")
	r.ok("branch", "other")
	r.ok("checkout", "-q", "other")
	r.write("f", "two\n")
	r.write("g", "theirs\n")
	r.ok("commit", "-qm", "two")
	r.ok("checkout", "-q", "main")
	r.write("f", "local edit\n")
	r.exits(exitWorktree, "f", "checkout", "other")
	r.exits(exitWorktree, "f", "merge", "other")
	r.ok("checkout", "-q", "--force", "main")
	r.write("g", "untracked\n")
	r.exits(exitWorktree, "g", "checkout", "other")
}

// TestExitConflicts: a worktree merge that stops on a row conflict, a
// merge --into that meets one, and a --continue while one is unresolved
// exit 4.
func TestExitConflicts(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	r.write("t.csv", "id,v\n1,a\n2,b\n3,c\n")
	r.ok("commit", "-qm", "base")
	r.ok("branch", "theirs")
	r.ok("branch", "target")
	r.ok("checkout", "-q", "theirs")
	r.write("t.csv", "id,v\n1,a\n2,THEIRS\n3,c\n")
	r.ok("commit", "-qm", "theirs")
	r.ok("checkout", "-q", "target")
	r.write("t.csv", "id,v\n1,a\n2,TARGET\n3,c\n")
	r.ok("commit", "-qm", "target")
	r.ok("checkout", "-q", "main")
	r.write("t.csv", "id,v\n1,a\n2,OURS\n3,c\n")
	r.ok("commit", "-qm", "ours")

	r.exits(exitConflicts, "nothing was written", "merge", "--into", "target", "theirs")
	res := r.exits(exitConflicts, "automatic merge failed", "merge", "theirs")
	if !strings.Contains(res.stdout, "t.csv") {
		t.Fatalf("merge did not print its conflict:\n%s", res.stdout)
	}
	r.exits(exitConflicts, "unresolved conflicts in t.csv", "merge", "--continue")
	r.ok("checkout", "--ours", "t.csv")
	r.ok("merge", "--continue")
}

// TestExitNotFastForward: a push over a branch that moved on a directory
// remote exits 5; the pull that follows stops on the conflict, 4.
func TestExitNotFastForward(t *testing.T) {
	rs := fileRemote(t)
	a := rs.repo(t)
	a.write("f", "base\n")
	a.ok("commit", "-qm", "base")
	a.ok("push")
	b := rs.clone(t)
	a.write("f", "from a\n")
	a.ok("commit", "-qm", "a")
	a.ok("push")
	b.write("f", "from b\n")
	b.ok("commit", "-qm", "b")
	b.exits(exitNotFastForward, "non-fast-forward: pull first", "push")
	b.exits(exitConflicts, "automatic merge failed", "pull")
}

// TestExitInvalidData: a commit of a table that repeats a key exits 7.
func TestExitInvalidData(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	r.write("t.csv", "id,v\n1,a\n1,b\n")
	r.exits(exitInvalidData, `t.csv:3: duplicate key "1"`, "commit", "-m", "dup")
}

// holdLock takes the index's directory lock, as a running dx holds it,
// until the test ends.
func holdLock(t *testing.T, r *repoDir) {
	t.Helper()
	d, err := os.Open(r.path(".dx/index"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
}

// TestExitLocked: a command that waits its whole time for another
// process's lock exits 6.
func TestExitLocked(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	r.write("f", "f\n")
	r.ok("commit", "-qm", "f")
	holdLock(t, r)
	r.exits(exitLocked, "locked by another dx process", "branch", "x")
}

// TestExitSignals: a command stopped by SIGINT exits 130, by SIGTERM 143,
// with one line saying so. The command waits for a lock the test holds,
// so it is surely running when the signal comes; its CPU profile file
// tells that it started, past setting up its signal handling.
func TestExitSignals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		signal syscall.Signal
		code   int
		want   string
	}{
		{"SIGINT", syscall.SIGINT, exitSIGINT, "interrupted; nothing was lost"},
		{"SIGTERM", syscall.SIGTERM, exitSIGTERM, "terminated; nothing was lost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRepo(t)
			r.write("f", "f\n")
			r.ok("commit", "-qm", "f")
			holdLock(t, r)
			profile := filepath.Join(t.TempDir(), "cpu.prof")
			args := []string{"--cpuprofile", profile, "commit", "-m", "waits"}
			cmd := exec.Command(dxBin, args...)
			cmd.Dir = r.dir
			cmd.Env = append(os.Environ(), "DX_AUTHOR=Test <test@example.com>")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if _, err := os.Stat(profile); err == nil {
					break
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatal("dx did not start its command")
				}
			}
			if err := cmd.Process.Signal(tc.signal); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			checkFailure(t, result{stderr: stderr.String(), code: code}, tc.want, args)
			if code != tc.code {
				t.Fatalf("dx stopped by %s: exit %d, want %d", tc.name, code, tc.code)
			}
		})
	}
}
