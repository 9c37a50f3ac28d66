package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/dxdata/dx/internal/faultinject"
)

// TestCheckoutCallsFollowTheFiles counts a checkout's system calls: one
// rename for each file it writes over the files there (and then one
// unlink each, of the old file), none for each file it writes into an
// empty worktree (its directories, made whole, are renamed into place);
// and as many fsyncs for 40 files as for 20 (the journal and the index,
// not the files).
func TestCheckoutCallsFollowTheFiles(t *testing.T) {
	self := faultTracer(t)
	counts := func(n int) (fresh, over map[faultinject.Class]int) {
		r := newRepo(t)
		for v := 1; v <= 2; v++ {
			for i := range n {
				r.write(fmt.Sprintf("d%d/e/f%03d.txt", i%3, i), fmt.Sprintf("version %d of file %d\n", v, i))
			}
			r.ok("commit", "-m", fmt.Sprintf("v%d", v))
		}
		run := func(args ...string) map[faultinject.Class]int {
			rep, out, hung := runFaulted(t, self, r, faultinject.Plan{Class: faultinject.Rename}, args)
			if hung || rep.Exit != 0 {
				t.Fatalf("dx %v: exit %d, hung %v:\n%s", args, rep.Exit, hung, out)
			}
			if st := r.ok("status", "--short"); st != "" {
				t.Fatalf("dx %v: status shows changes:\n%s", args, st)
			}
			return rep.Counts
		}
		names, err := os.ReadDir(r.dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range names {
			if e.Name() != ".dx" {
				if err := os.RemoveAll(filepath.Join(r.dir, e.Name())); err != nil {
					t.Fatal(err)
				}
			}
		}
		return run("checkout", "--force", "HEAD"), run("checkout", "HEAD~1")
	}
	fresh20, over20 := counts(20)
	fresh40, over40 := counts(40)
	for _, c := range []struct {
		what     string
		class    faultinject.Class
		n20, n40 map[faultinject.Class]int
		per      int
	}{
		{"into an empty worktree", faultinject.Rename, fresh20, fresh40, 0},
		{"into an empty worktree", faultinject.Fsync, fresh20, fresh40, 0},
		{"over the files", faultinject.Rename, over20, over40, 1},
		{"over the files", faultinject.Unlink, over20, over40, 1},
		{"over the files", faultinject.Fsync, over20, over40, 0},
	} {
		if got := c.n40[c.class] - c.n20[c.class]; got != 20*c.per {
			t.Errorf("checkout %s: %d %s calls for 40 files, %d for 20: want %d more", c.what, c.n40[c.class], c.class, c.n20[c.class], 20*c.per)
		}
	}
}
