package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCrashDuringCommit kills `dx commit` with SIGKILL at random moments.
// After each kill `dx fsck` must be clean (no ref names a missing object),
// and in the end a retried commit succeeds and round-trips.
func TestCrashDuringCommit(t *testing.T) {
	r := newRepo(t)
	rng := rand.New(rand.NewPCG(42, 1))
	gen := func(round int) {
		for i := 0; i < 12; i++ {
			var b strings.Builder
			for j := 0; j < 40000; j++ {
				fmt.Fprintf(&b, "%d,%d,%d,row %d of file %d round %d\n", j, rng.IntN(1e9), rng.IntN(1e6), j, i, round)
			}
			r.write(fmt.Sprintf("data/f%02d.csv", i), b.String())
		}
	}
	gen(0)
	// Time one commit to spread the kills across its whole duration.
	start := time.Now()
	r.ok("commit", "-m", "base")
	full := time.Since(start)
	const rounds = 24
	killed := 0
	for round := 1; round <= rounds; round++ {
		gen(round)
		cmd := exec.CommandContext(context.Background(), dxBin, "commit", "-m", fmt.Sprintf("round %d", round))
		cmd.Dir = r.dir
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := time.Duration(rng.Int64N(int64(full) * 3 / 2))
		time.Sleep(delay)
		if err := cmd.Process.Signal(syscall.SIGKILL); err == nil {
			killed++
		}
		cmd.Wait()
		res := r.run("fsck")
		if res.code != 0 {
			t.Fatalf("round %d (killed after %s): fsck failed:\n%s%s", round, delay, res.stdout, res.stderr)
		}
		if res := r.run("log", "--oneline"); res.code != 0 {
			t.Fatalf("round %d: log after crash: %s", round, res.stderr)
		}
	}
	t.Logf("%d of %d commits killed (commit takes %s)", killed, rounds, full)
	want := manifest(t, r.dir)
	out := r.ok("commit", "-m", "retry")
	if !strings.Contains(out, "retry") && !strings.Contains(out, "nothing to commit") {
		t.Fatalf("retried commit: %q", out)
	}
	r.ok("fsck", "--full")
	r.ok("gc", "--prune")
	r.ok("fsck", "--full")
	clearWorktree(t, r.dir)
	r.ok("checkout", "--force", "HEAD")
	if d := diffManifests(want, manifest(t, r.dir)); len(d) > 0 {
		t.Fatalf("after crashes, checkout differs:\n%s", strings.Join(d, "\n"))
	}
	if st := r.ok("status", "--short"); st != "" {
		t.Fatalf("status: %q", st)
	}
	_ = os.Getpid
}
