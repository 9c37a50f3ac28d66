package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dxdata/dx/internal/s3test"
)

// gcReport is the part of `dx gc --remote --json` the tests read.
type gcReport struct {
	Refs        int `json:"refs"`
	Unreachable struct {
		Packs int   `json:"packs"`
		Bytes int64 `json:"bytes"`
	} `json:"unreachable"`
	Removed struct {
		Packs int   `json:"packs"`
		Bytes int64 `json:"bytes"`
	} `json:"removed"`
	Condemned struct {
		Packs int `json:"packs"`
	} `json:"condemned"`
	Waiting struct {
		Packs int `json:"packs"`
	} `json:"waiting"`
}

func gcReportOf(t *testing.T, out string) gcReport {
	t.Helper()
	var rep gcReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("dx gc --remote --json: %v\n%s", err, out)
	}
	return rep
}

// TestPushDeleteAndRemoteGC: a branch deleted on the remote (by
// compare-and-swap) leaves its packs, which one collector run condemns
// and a run a grace period later removes; main still clones whole.
func TestPushDeleteAndRemoteGC(t *testing.T) {
	bothRemotes(t, func(t *testing.T, rs remoteSetup) {
		const grace = "1s"
		r := rs.repo(t)
		r.ok("gc", "--remote", "origin", "--prune", "--grace", grace) // sets the grace on the empty remote
		writeBytes(t, r.path("main.bin"), randomBytes(1, 2<<20))
		r.ok("commit", "-m", "main")
		r.ok("push")
		r.ok("branch", "feature")
		r.ok("checkout", "feature")
		writeBytes(t, r.path("feature.bin"), randomBytes(2, 3<<20))
		r.ok("commit", "-m", "feature")
		r.ok("push", "origin", "feature")
		r.ok("checkout", "main")
		if out := r.ok("push", "origin", "--delete", "feature"); !strings.Contains(out, "deleted") {
			t.Fatalf("push --delete said %q", out)
		}
		r.fails("has no feature", "push", "origin", "--delete", "feature")
		r.fails("--grace, --events-retention, --keep-last and --keep-within go with --remote", "gc", "--grace", "1s")
		time.Sleep(1100 * time.Millisecond)
		rep := gcReportOf(t, r.ok("gc", "--remote", "origin", "--json"))
		if rep.Refs != 1 || rep.Unreachable.Packs == 0 || rep.Unreachable.Bytes < 3<<20 || rep.Removed.Packs != 0 {
			t.Fatalf("report: %+v", rep)
		}
		if rep := gcReportOf(t, r.ok("gc", "--remote", "origin", "--prune", "--json")); rep.Condemned.Packs == 0 || rep.Removed.Packs != 0 {
			t.Fatalf("first prune: %+v", rep)
		}
		if out := r.ok("gc", "--remote", "origin", "--prune"); !strings.Contains(out, "wait until") {
			t.Fatalf("a prune within the grace said %q", out)
		}
		time.Sleep(1100 * time.Millisecond)
		after := gcReportOf(t, r.ok("gc", "--remote", "origin", "--prune", "--json"))
		if after.Removed.Bytes < 3<<20 || after.Removed.Bytes != rep.Unreachable.Bytes {
			t.Fatalf("removed %+v, want the %d unreachable bytes", after.Removed, rep.Unreachable.Bytes)
		}
		c := rs.clone(t)
		c.ok("fsck", "--full")
		if got, want := manifest(t, c.dir), manifest(t, r.dir); len(diffManifests(got, want)) > 0 {
			t.Fatalf("the clone differs: %v", diffManifests(got, want))
		}
	})
}

// TestRemoteGCWithPushers: pushers (separate processes) push, delete and
// push again branches sharing most of their chunks, while the collector
// runs in a loop with a short grace, keeping the last 2 commits of each
// branch. Afterwards every branch holds what its last acknowledged push
// sent, its (shallow) history logs, and a clone of the remote passes a
// full fsck; the collector removed packs along the way.
func TestRemoteGCWithPushers(t *testing.T) {
	rs := s3Remote(t, s3test.Start(t))
	// DX_GC_LONG (make fuzz) runs until the collector has run 200 times.
	const pushers, grace = 4, "2s"
	rounds, cycles := 8, int64(0)
	if os.Getenv("DX_GC_LONG") == "1" {
		rounds, cycles = 1<<30, 200
	}
	var ran atomic.Int64
	admin := rs.repo(t)
	admin.ok("gc", "--remote", "origin", "--prune", "--grace", grace)
	shared := randomBytes(10, 3<<20) // the same chunks in every branch
	var mu sync.Mutex
	last := map[string]string{} // branch → its commit, "" once deleted
	var wg sync.WaitGroup
	errs := make(chan error, pushers)
	for p := range pushers {
		repo := rs.repo(t)
		repo.write("who.txt", fmt.Sprintf("pusher %d\n", p))
		repo.ok("commit", "-q", "-m", "start")
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(p), 99))
			made := map[string]bool{}
			for i := range rounds {
				if cycles > 0 && ran.Load() >= cycles {
					return
				}
				branch := fmt.Sprintf("p%d-b%d", p, rng.IntN(2))
				mu.Lock()
				live := last[branch] != ""
				mu.Unlock()
				if live && rng.IntN(3) == 0 {
					res := runDxEnv(t, repo.dir, nil, repo.env, "push", "origin", "--delete", branch)
					if res.code != 0 {
						errs <- fmt.Errorf("push --delete %s: %s", branch, res.stderr)
						return
					}
					mu.Lock()
					last[branch] = ""
					mu.Unlock()
					// Its history goes too: the next push of the name
					// starts again from main.
					for _, args := range [][]string{{"checkout", "-q", "main"}, {"branch", "-D", branch}} {
						if res := runDxEnv(t, repo.dir, nil, repo.env, args...); res.code != 0 {
							errs <- fmt.Errorf("%v: %s", args, res.stderr)
							return
						}
					}
					made[branch] = false
					continue
				}
				if !made[branch] {
					if res := runDxEnv(t, repo.dir, nil, repo.env, "branch", branch); res.code != 0 {
						errs <- fmt.Errorf("branch: %s", res.stderr)
						return
					}
					made[branch] = true
				}
				if res := runDxEnv(t, repo.dir, nil, repo.env, "checkout", "-q", branch); res.code != 0 {
					errs <- fmt.Errorf("checkout: %s", res.stderr)
					return
				}
				writeBytes(t, filepath.Join(repo.dir, "shared.bin"), shared)
				writeBytes(t, filepath.Join(repo.dir, "own.bin"), randomBytes(uint64(1000*p+i), 300<<10))
				if res := runDxEnv(t, repo.dir, nil, repo.env, "commit", "-q", "-m", fmt.Sprintf("%d/%d", p, i)); res.code != 0 {
					errs <- fmt.Errorf("commit: %s", res.stderr)
					return
				}
				id := commitID(t, runDxEnv(t, repo.dir, nil, repo.env, "show", "--json", "HEAD").stdout)
				res := runDxEnv(t, repo.dir, nil, repo.env, "push", "-q", "--force", "origin", branch)
				if res.code != 0 {
					errs <- fmt.Errorf("push %s: %s", branch, res.stderr)
					return
				}
				mu.Lock()
				last[branch] = id
				mu.Unlock()
			}
		}()
	}
	stop := make(chan struct{})
	gcDone := make(chan gcReport)
	go func() {
		var total gcReport
		for {
			select {
			case <-stop:
				gcDone <- total
				return
			default:
			}
			res := runDxEnv(t, admin.dir, nil, admin.env, "gc", "--remote", "origin", "--prune", "--json", "--keep-last", "2")
			if res.code == 0 {
				var rep gcReport
				if json.Unmarshal([]byte(res.stdout), &rep) == nil {
					total.Removed.Packs += rep.Removed.Packs
					total.Refs++
				}
			}
			ran.Add(1)
			time.Sleep(300 * time.Millisecond)
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		close(stop)
		<-gcDone
		t.Fatal(err)
	}
	// Let what the last deletions left be condemned and removed too.
	time.Sleep(2500 * time.Millisecond)
	close(stop)
	total := <-gcDone
	for i := range 2 {
		if i > 0 {
			time.Sleep(2100 * time.Millisecond)
		}
		total.Removed.Packs += gcReportOf(t, admin.ok("gc", "--remote", "origin", "--prune", "--json", "--keep-last", "2")).Removed.Packs
		total.Refs++
	}
	t.Logf("%d collector runs removed %d packs", total.Refs, total.Removed.Packs)
	c := rs.clone(t)
	c.ok("fsck", "--full")
	refs := c.ok("branch", "-r")
	for branch, id := range last {
		has := strings.Contains(refs, "origin/"+branch)
		if id == "" {
			if has {
				t.Errorf("%s was deleted but is on the remote", branch)
			}
			continue
		}
		if got := commitID(t, c.ok("show", "--json", "origin/"+branch)); got != id {
			t.Errorf("%s is %s on the remote, its last push sent %s", branch, got, id)
		}
		c.ok("cat", id+":own.bin")
		if log := logOf(t, c, "origin/"+branch); log[0].ID != id {
			t.Errorf("%s: log starts at %s, want %s", branch, log[0].ID, id)
		}
	}
	if total.Removed.Packs == 0 {
		t.Fatal("the collector removed nothing while branches were deleted")
	}
}

// commitID is the id in `dx show --json`'s output.
func commitID(t *testing.T, out string) string {
	var c struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.ID == "" {
		t.Errorf("dx show --json: %v: %q", err, out)
	}
	return c.ID
}

// TestRemoteGCKilled: a collector killed (SIGKILL) at random moments
// while it removes condemned packs leaves no index naming a missing pack
// and every ref whole; later runs finish the job.
func TestRemoteGCKilled(t *testing.T) {
	bothRemotes(t, func(t *testing.T, rs remoteSetup) {
		r := rs.repo(t)
		r.ok("gc", "--remote", "origin", "--prune", "--grace", "1s")
		writeBytes(t, r.path("main.bin"), randomBytes(1, 2<<20))
		r.ok("commit", "-m", "main")
		r.ok("push")
		kept := objectSizes(t, rs, "packs/")
		for i := range 6 {
			b := fmt.Sprintf("b%d", i)
			r.ok("branch", b)
			r.ok("checkout", b)
			writeBytes(t, r.path("b.bin"), randomBytes(uint64(100+i), 1<<20))
			r.ok("commit", "-m", b)
			r.ok("push", "origin", b)
			r.ok("checkout", "main")
			r.ok("branch", "-D", b)
			r.ok("push", "origin", "--delete", b)
		}
		time.Sleep(1100 * time.Millisecond)
		r.ok("gc", "--remote", "origin", "--prune") // condemns
		time.Sleep(1100 * time.Millisecond)
		rng := rand.New(rand.NewPCG(5, 5))
		consistent := func(when string) {
			t.Helper()
			packs := objectSizes(t, rs, "packs/")
			for k := range objectSizes(t, rs, "index/") {
				p := "packs/" + strings.TrimSuffix(strings.TrimPrefix(k, "index/"), ".idx") + ".pack"
				if _, ok := packs[p]; !ok {
					t.Fatalf("%s: %s names a pack that is gone", when, k)
				}
			}
			rs.clone(t).ok("fsck", "--full")
		}
		for i := range 8 {
			cmd := exec.Command(dxBin, "gc", "--remote", "origin", "--prune")
			cmd.Dir, cmd.Env = r.dir, append(os.Environ(), r.env...)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Duration(rng.IntN(120)) * time.Millisecond)
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			consistent(fmt.Sprintf("kill %d", i))
		}
		// Finish: what a kill left without an index is condemned, then
		// removed a grace later.
		for range 3 {
			r.ok("gc", "--remote", "origin", "--prune")
			time.Sleep(1100 * time.Millisecond)
		}
		r.ok("gc", "--remote", "origin", "--prune")
		consistent("after")
		if got := objectSizes(t, rs, "packs/"); len(got) != len(kept) {
			t.Fatalf("%d packs left, want main's %d", len(got), len(kept))
		}
	})
}

// duRow is a row of `dx du --json`.
type duRow struct {
	Name      string `json:"name"`
	Bytes     int64  `json:"bytes"`
	Exclusive int64  `json:"exclusive"`
	Shared    int64  `json:"shared"`
	Missing   int    `json:"missing"`
}

// duRows runs `dx du --json ARGS` and returns its rows by name.
func duRows(t *testing.T, r *repoDir, args ...string) map[string]duRow {
	t.Helper()
	var rep struct {
		Refs []duRow `json:"refs"`
	}
	if err := json.Unmarshal([]byte(r.ok(append([]string{"du", "--json"}, args...)...)), &rep); err != nil {
		t.Fatal(err)
	}
	out := map[string]duRow{}
	for _, x := range rep.Refs {
		out[x.Name] = x
	}
	return out
}

// TestDu: dx du of the store and of a remote: a branch's own file is its
// exclusive bytes, what it shares with main is shared, and the remote's
// account of the pushed refs is the store's.
func TestDu(t *testing.T) {
	rs := fileRemote(t)
	r := rs.repo(t)
	writeBytes(t, r.path("main.bin"), randomBytes(1, 2<<20))
	r.ok("commit", "-m", "main")
	r.ok("branch", "feature")
	r.ok("checkout", "feature")
	writeBytes(t, r.path("feature.bin"), randomBytes(2, 1<<20))
	r.ok("commit", "-m", "feature")
	r.ok("push", "--all")
	read := func(args ...string) map[string]duRow { return duRows(t, r, args...) }
	local := read()
	f, m := local["refs/heads/feature"], local["refs/heads/main"]
	if f.Exclusive < 1<<20 || f.Exclusive > 1<<20+64<<10 || m.Exclusive != 0 || m.Shared < 2<<20 || f.Bytes != f.Exclusive+f.Shared {
		t.Fatalf("local: feature %+v, main %+v", f, m)
	}
	remote := read("origin")
	if remote["refs/heads/feature"] != f || remote["refs/heads/main"] != m {
		t.Fatalf("remote %+v, local %+v", remote, local)
	}
	if !strings.Contains(r.ok("du"), "EXCLUSIVE") {
		t.Fatal("no table header")
	}
	r.fails("--by takes branch, model or path", "du", "--by", "size")
}

// TestDuByPath: dx du --by path of the store and of a remote: a file's
// versions are its path's exclusive bytes, the same content under two
// paths is shared, and the remote's account equals the store's.
func TestDuByPath(t *testing.T) {
	rs := fileRemote(t)
	r := rs.repo(t)
	writeBytes(t, r.path("a.bin"), randomBytes(1, 1<<20))
	writeBytes(t, r.path("dir/copy.bin"), randomBytes(1, 1<<20))
	writeBytes(t, r.path("b.bin"), randomBytes(2, 512<<10))
	r.ok("commit", "-m", "one")
	writeBytes(t, r.path("b.bin"), randomBytes(3, 512<<10))
	r.ok("commit", "-m", "two")
	r.ok("push")
	read := func(args ...string) map[string]duRow {
		return duRows(t, r, append([]string{"--by", "path"}, args...)...)
	}
	local := read()
	a, c, b := local["a.bin"], local["dir/copy.bin"], local["b.bin"]
	if len(local) != 3 || a.Shared < 1<<20 || a.Exclusive != c.Exclusive || c.Shared != a.Shared || a.Exclusive > 4<<10 {
		t.Fatalf("a.bin %+v, dir/copy.bin %+v", a, c)
	}
	if b.Exclusive < 1<<20 || b.Exclusive > 1<<20+64<<10 || b.Shared != 0 || b.Bytes != b.Exclusive {
		t.Fatalf("b.bin (two versions) %+v", b)
	}
	if remote := read("origin"); len(remote) != 3 || remote["a.bin"] != a || remote["b.bin"] != b || remote["dir/copy.bin"] != c {
		t.Fatalf("remote %+v, local %+v", remote, local)
	}
	if out := r.ok("du", "--by", "path"); !strings.Contains(out, "PATH") || !strings.Contains(out, "dir/copy.bin") {
		t.Fatalf("du --by path:\n%s", out)
	}
}
