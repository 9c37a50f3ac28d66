package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dxdata/dx/internal/s3test"
)

// logEntries is `dx log --json`: ids, newest first, and where the
// history is cut.
type logEntry struct {
	ID      string `json:"id"`
	Shallow bool   `json:"shallow"`
}

func logOf(t *testing.T, r *repoDir, args ...string) []logEntry {
	t.Helper()
	var out []logEntry
	if err := json.Unmarshal([]byte(r.ok(append([]string{"log", "--json"}, args...)...)), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// pushAdding pushes and returns the bytes of the packs the push added.
func pushAdding(t *testing.T, r *repoDir, rs remoteSetup, args ...string) int64 {
	t.Helper()
	before := objectSizes(t, rs, "packs/")
	r.ok(append([]string{"push"}, args...)...)
	var n int64
	for k, size := range objectSizes(t, rs, "packs/") {
		if _, ok := before[k]; !ok {
			n += size
		}
	}
	return n
}

// pruneTwice runs the collector with the keep flags twice, a grace (1 s)
// apart, and returns the bytes removed.
func pruneTwice(t *testing.T, r *repoDir, keep ...string) int64 {
	t.Helper()
	var removed int64
	for range 2 {
		time.Sleep(1100 * time.Millisecond)
		args := append([]string{"gc", "--remote", "origin", "--prune", "--json"}, keep...)
		removed += gcReportOf(t, r.ok(args...)).Removed.Bytes
	}
	return removed
}

// TestShallowKeepLast: a branch of 10 commits (each a new 1 MiB version
// of one file, pushed one by one) and a tag on its second commit; gc
// --keep-last 3 run twice past the grace removes exactly the packs the
// commits cut held. A clone then shows 3 commits and the cut, passes
// fsck --full, checks each kept commit (and the tag) out byte for byte;
// a merge base beyond the cut is a clear error; new commits push on top
// from the old history and from the shallow clone, and a clone made
// before the collection still pulls.
func TestShallowKeepLast(t *testing.T) {
	rs := s3Remote(t, s3test.Start(t))
	r := rs.repo(t)
	r.ok("gc", "--remote", "origin", "--prune", "--grace", "1s")
	const n = 10
	var cutBytes int64 // what only the commits cut hold
	for i := 1; i <= n; i++ {
		writeBytes(t, r.path("data.bin"), randomBytes(uint64(i), 1<<20))
		r.ok("commit", "-m", fmt.Sprintf("c%d", i))
		added := pushAdding(t, r, rs)
		if i == 2 {
			r.ok("tag", "v1")
			r.ok("push", "origin", "v1")
		}
		if i != 2 && i <= n-3 {
			cutBytes += added
		}
	}
	ids := logOf(t, r) // newest first
	if len(ids) != n {
		t.Fatalf("%d commits, want %d", len(ids), n)
	}
	before := rs.clone(t) // a clone made before the collection
	r.fails("--keep-last and --keep-within go with --remote", "gc", "--keep-last", "3")
	r.fails("--keep-within", "gc", "--remote", "origin", "--keep-within", "soon")
	removed := pruneTwice(t, r, "--keep-last", "3")
	if removed != cutBytes || cutBytes < 6<<20 {
		t.Fatalf("removed %d bytes, the commits cut held %d", removed, cutBytes)
	}
	t.Logf("--keep-last 3 removed %d bytes: exactly what the 6 commits cut held", removed)
	c := rs.clone(t)
	log := logOf(t, c)
	if len(log) != 3 || !log[2].Shallow || log[0].Shallow || log[1].Shallow {
		t.Fatalf("the clone's log: %+v", log)
	}
	for i, e := range log {
		if e.ID != ids[i].ID {
			t.Fatalf("commit %d is %s, want %s", i, e.ID, ids[i].ID)
		}
	}
	if out := c.ok("log", "--oneline"); !strings.Contains(out, "[shallow") {
		t.Fatalf("log does not show the cut:\n%s", out)
	}
	// dx du counts no object missing: the cut is not a loss.
	for _, args := range [][]string{nil, {"origin"}, {"--by", "path"}, {"origin", "--by", "path"}} {
		for name, row := range duRows(t, c, args...) {
			if row.Missing != 0 || row.Bytes == 0 {
				t.Fatalf("du %v: %s: %+v", args, name, row)
			}
		}
	}
	c.ok("gc", "--prune") // the local collector walks down to the cut
	if out := c.ok("fsck", "--full"); !strings.Contains(out, "history cut below 2 shallow commits") {
		t.Fatalf("fsck: %s", out)
	}
	checkData := func(rev string, seed int) {
		t.Helper()
		c.ok("checkout", "-q", rev)
		got, err := os.ReadFile(c.path("data.bin"))
		if err != nil || !bytes.Equal(got, randomBytes(uint64(seed), 1<<20)) {
			t.Fatalf("%s: data.bin differs (%v)", rev, err)
		}
	}
	for i, e := range log {
		checkData(e.ID, n-i)
	}
	checkData("v1", 2)
	if tl := logOf(t, c, "v1"); len(tl) != 1 || !tl[0].Shallow {
		t.Fatalf("the tag's log: %+v", tl)
	}
	if out := c.ok("show", "v1"); !strings.Contains(out, "[shallow") || !strings.Contains(out, "data.bin") {
		t.Fatalf("show of a shallow commit:\n%s", out)
	}
	c.ok("checkout", "-q", "main")
	c.fails("beyond the kept history", "merge", "v1")
	// New commits on top: from the full history, then from the clone.
	writeBytes(t, r.path("data.bin"), randomBytes(11, 1<<20))
	r.ok("commit", "-m", "c11")
	r.ok("push")
	c.ok("pull")
	writeBytes(t, c.path("data.bin"), randomBytes(12, 1<<20))
	c.ok("commit", "-m", "c12")
	c.ok("push")
	before.ok("pull")
	before.ok("fsck", "--full")
	if got := logOf(t, before); len(got) != n+2 {
		t.Fatalf("the old clone has %d commits after its pull, want %d", len(got), n+2)
	}
	checkFile(t, before.path("data.bin"), randomBytes(12, 1<<20))
	after := rs.clone(t)
	after.ok("fsck", "--full")
	if got := logOf(t, after); len(got) != 5 || !got[4].Shallow {
		t.Fatalf("a new clone's log: %+v", got)
	}
	// The shallow history goes on to other remotes, which list the cut:
	// pushed from the shallow clone, and replicated remote to remote.
	pushed, replicated := fileRemote(t), fileRemote(t)
	c.ok("remote", "add", "pushed", pushed.url)
	c.ok("push", "pushed", "main")
	c.ok("remote", "add", "replicated", replicated.url)
	c.ok("replicate", "origin", "replicated", "main")
	for _, other := range []remoteSetup{pushed, replicated} {
		oc := other.clone(t)
		oc.ok("fsck", "--full")
		if got := logOf(t, oc); len(got) != 5 || !got[4].Shallow || got[0].ID != logOf(t, c)[0].ID {
			t.Fatalf("%s: the clone's log: %+v", other.url, got)
		}
		checkFile(t, oc.path("data.bin"), randomBytes(12, 1<<20))
	}
}

func checkFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s differs (%v)", path, err)
	}
}

// TestShallowKeepWithin: commits dated 200, 100, 10 and 1 days ago; gc
// --keep-within 30d keeps the last two, and a clone's log stops there.
func TestShallowKeepWithin(t *testing.T) {
	rs := s3Remote(t, s3test.Start(t))
	r := rs.repo(t)
	r.ok("gc", "--remote", "origin", "--prune", "--grace", "1s")
	env := r.env
	for i, days := range []int{200, 100, 10, 1} {
		r.env = append(append([]string(nil), env...), fmt.Sprintf("DX_DATE=@%d", time.Now().Add(-time.Duration(days)*24*time.Hour).Unix()))
		writeBytes(t, r.path("data.bin"), randomBytes(uint64(100+i), 256<<10))
		r.ok("commit", "-m", fmt.Sprintf("%dd", days))
		r.ok("push")
	}
	r.env = env
	full := logOf(t, r)
	if removed := pruneTwice(t, r, "--keep-within", "30d"); removed < 512<<10 {
		t.Fatalf("removed %d bytes, want the two old versions", removed)
	}
	c := rs.clone(t)
	c.ok("fsck", "--full")
	log := logOf(t, c)
	if len(log) != 2 || log[0].ID != full[0].ID || log[1].ID != full[1].ID || !log[1].Shallow {
		t.Fatalf("the clone's log %+v, the full one %+v", log, full)
	}
}

// TestKeepPusherClockSkew: pushers whose clocks are an hour behind and an
// hour ahead (their commits dated so, DX_DATE) push while gc
// --keep-within 30m collects. The only thing a pusher's clock gives the
// collector is its commits' times: the branch of the pusher behind keeps
// its tip (a tip always stays) and is cut below it, listed as shallow;
// the one ahead keeps all four. Both clone whole with fsck --full, and the
// pusher behind pushes on top of its cut history. (A writer's grace
// window runs on its monotonic clock, see remote/gc's TestWriterWindow.)
func TestKeepPusherClockSkew(t *testing.T) {
	rs := s3Remote(t, s3test.Start(t))
	admin := rs.repo(t)
	admin.ok("gc", "--remote", "origin", "--prune", "--grace", "1s")
	pushers := map[string]*repoDir{}
	seed := map[string]uint64{"behind": 200, "ahead": 300}
	for name, skew := range map[string]time.Duration{"behind": -time.Hour, "ahead": time.Hour} {
		p := rs.repo(t)
		p.env = append(append([]string(nil), rs.env...), fmt.Sprintf("DX_DATE=@%d", time.Now().Add(skew).Unix()))
		p.write("who.txt", name+"\n")
		p.ok("commit", "-q", "-m", "start")
		p.ok("branch", name)
		p.ok("checkout", "-q", name)
		pushers[name] = p
	}
	for i := range 3 {
		for name, p := range pushers {
			writeBytes(t, p.path(name+".bin"), randomBytes(seed[name]+uint64(i), 256<<10))
			p.ok("commit", "-m", fmt.Sprintf("%s %d", name, i))
			p.ok("push", "origin", name)
		}
		admin.ok("gc", "--remote", "origin", "--prune", "--keep-within", "30m")
	}
	// The first version went up in the packs of the start commit (live
	// with the tip's who.txt; too little dead to repack): the second goes.
	if removed := pruneTwice(t, admin, "--keep-within", "30m"); removed < 256<<10 {
		t.Fatalf("removed %d bytes, want the behind pusher's second version", removed)
	}
	c := rs.clone(t)
	c.ok("fsck", "--full")
	if got := logOf(t, c, "origin/behind"); len(got) != 1 || !got[0].Shallow {
		t.Fatalf("behind: %+v", got)
	}
	if got := logOf(t, c, "origin/ahead"); len(got) != 4 || got[3].Shallow {
		t.Fatalf("ahead: %+v", got)
	}
	c.ok("checkout", "-q", "origin/behind")
	checkFile(t, c.path("behind.bin"), randomBytes(202, 256<<10))
	b := pushers["behind"]
	writeBytes(t, b.path("behind.bin"), randomBytes(209, 256<<10))
	b.ok("commit", "-m", "on top")
	b.ok("push", "origin", "behind")
	c2 := rs.clone(t)
	c2.ok("fsck", "--full")
	if got := logOf(t, c2, "origin/behind"); len(got) != 2 || !got[1].Shallow {
		t.Fatalf("behind after a push on top: %+v", got)
	}
}

// TestSubscribeShallow: a remote whose history gc --keep-last 1 cut is
// followed by a subscriber cloned before the collection and by one
// cloned after (shallow). The old one, whose last handled commit lies
// beyond the cut, cannot tell the new head descends from it: it stops
// (exit 5) and follows with --accept-rewrites; the new one is handed
// the delta from nothing to the head.
func TestSubscribeShallow(t *testing.T) {
	rs := fileRemote(t)
	rs.repo(t).ok("gc", "--remote", "origin", "--prune", "--grace", "1s") // on the empty remote
	s := newSubscription(t, rs)
	v1 := s.pub.head()
	s.sub.ok("subscribe", "origin", "main", "--once", "--exec", s.command("true"))
	s.publish()
	s.publish()
	v4 := s.publish()
	if removed := pruneTwice(t, s.pub, "--keep-last", "1"); removed == 0 {
		t.Fatal("nothing collected")
	}
	shallow := rs.clone(t)
	if log := logOf(t, shallow); len(log) != 1 || !log[0].Shallow {
		t.Fatalf("the new clone's log: %+v", log)
	}
	v5 := s.publish()
	// The old subscriber cannot tell v5 descends from v1: it stops, exit
	// 5, and follows with --accept-rewrites.
	s.sub.exits(5, "collected on the remote (shallow)", "subscribe", "origin", "main", "--once", "--exec", s.command("true"))
	s.sub.ok("subscribe", "origin", "main", "--once", "--accept-rewrites", "--exec", s.command("true"))
	s.sub = shallow
	shallow.ok("subscribe", "origin", "main", "--once", "--exec", s.command("true"))
	done := s.lines("done")
	if len(done) != 3 || done[1] != v1+" "+v5 || done[2] != " "+v5 {
		t.Fatalf("deltas %q, want %s..%s and ..%s", done, v1, v5, v5)
	}
	rows, err := os.ReadFile(filepath.Join(s.deltas, v5+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if want := shallow.ok("diff", "--rows", "--format", "jsonl", v4, v5); want == "" || len(rows) == 0 {
		t.Fatalf("no rows: %q %q", rows, want)
	}
	shallow.ok("fsck", "--full")
}

// TestShallowRepack: ten commits pushed at once share their packs; gc
// --keep-last 3 copies the three kept versions out of them (a repack)
// and removes the old packs a grace later: the remote keeps about three
// tenths of its bytes, and a clone holds the three commits, whole.
func TestShallowRepack(t *testing.T) {
	rs := fileRemote(t)
	r := rs.repo(t)
	r.ok("gc", "--remote", "origin", "--prune", "--grace", "1s")
	for i := range 10 {
		writeBytes(t, r.path("d.bin"), randomBytes(uint64(400+i), 512<<10))
		r.ok("commit", "-q", "-m", fmt.Sprint(i))
	}
	r.ok("push")
	total := func() int64 {
		var n int64
		for _, size := range objectSizes(t, rs, "packs/") {
			n += size
		}
		return n
	}
	before := total()
	pruneTwice(t, r, "--keep-last", "3")
	after := total()
	if after > before*35/100 || after < before*3/10-64<<10 {
		t.Fatalf("%d of %d bytes left, want the 3 versions kept of 10", after, before)
	}
	t.Logf("--keep-last 3 of 10 commits pushed at once: %d of %d bytes left", after, before)
	c := rs.clone(t)
	c.ok("fsck", "--full")
	if log := logOf(t, c); len(log) != 3 || !log[2].Shallow {
		t.Fatalf("log: %+v", log)
	}
	checkFile(t, c.path("d.bin"), randomBytes(409, 512<<10))
}
