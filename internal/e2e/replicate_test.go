package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/dxdata/dx/internal/s3test"
)

// s3Proxy sits between dx and a MinIO and counts what dx asks of it: every
// request, and per object the writes that completed (a plain PUT, or the
// POST that completes a multipart upload). onRequest, if set, sees each
// request's number before it is passed on.
type s3Proxy struct {
	url       string // http://host:port
	mu        sync.Mutex
	requests  int
	writes    int
	completed map[string]int // object path → completed writes
	// uploads counts pack uploads begun and not completed: multipart
	// uploads, and single PUTs of a pack whose body is on its way.
	uploads   int
	onRequest func(n int)
	inFlight  int        // requests being passed on
	settled   *sync.Cond // on mu, broadcast when inFlight drops to 0
}

func newS3Proxy(t *testing.T, target string) *s3Proxy {
	t.Helper()
	u, err := url.Parse("http://" + target)
	if err != nil {
		t.Fatal(err)
	}
	p := &s3Proxy{completed: map[string]int{}}
	p.settled = sync.NewCond(&p.mu)
	rp := httputil.NewSingleHostReverseProxy(u) // keeps the Host dx signed
	rp.ErrorLog = log.New(io.Discard, "", 0)    // requests of a killed dx break off
	rp.ModifyResponse = func(resp *http.Response) error {
		req := resp.Request
		q := req.URL.Query()
		done := resp.StatusCode == http.StatusOK &&
			(req.Method == http.MethodPut && !q.Has("uploadId") || req.Method == http.MethodPost && q.Has("uploadId"))
		p.mu.Lock()
		defer p.mu.Unlock()
		if done {
			p.completed[req.URL.Path]++
		}
		if resp.StatusCode == http.StatusOK && req.Method == http.MethodPost {
			if q.Has("uploads") {
				p.uploads++
			} else if q.Has("uploadId") {
				p.uploads--
			}
		}
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.requests++
		p.inFlight++
		n := p.requests
		if r.Method == http.MethodPut || r.Method == http.MethodPost || r.Method == http.MethodDelete {
			p.writes++
		}
		singlePack := r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/packs/") && !r.URL.Query().Has("uploadId")
		if singlePack {
			p.uploads++
		}
		hook := p.onRequest
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			if p.inFlight--; p.inFlight == 0 {
				p.settled.Broadcast()
			}
			p.mu.Unlock()
		}()
		if hook != nil {
			hook(n)
		}
		// A write whose body came whole is completed whether or not dx
		// lives to read the answer: passed on with dx's context, a kill
		// cancelled the request to MinIO, which might have written the
		// object already, so its answer never reached ModifyResponse and
		// a completed write went uncounted. The request goes on detached,
		// bounded only against a MinIO that never answers.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Minute)
		defer cancel()
		rp.ServeHTTP(w, r.WithContext(ctx))
		if singlePack {
			p.mu.Lock()
			p.uploads--
			p.mu.Unlock()
		}
	}))
	t.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}

// settle waits until no request is being passed on: those of a killed dx
// run to their end, and the next run (or a count) sees what they did.
func (p *s3Proxy) settle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.inFlight > 0 {
		p.settled.Wait()
	}
}

// reset zeroes the request counters (not the completed writes).
func (p *s3Proxy) reset() (requests, writes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	requests, writes = p.requests, p.writes
	p.requests, p.writes = 0, 0
	return requests, writes
}

// objectSizes lists a remote's objects under prefix (packs/, index/)
// with their sizes, by key below the remote's root.
func objectSizes(t *testing.T, rs remoteSetup, prefix string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	if rs.srv == nil {
		root := filepath.Join(rs.dir, prefix)
		ents, _ := os.ReadDir(root)
		for _, e := range ents {
			if fi, err := e.Info(); err == nil && !strings.HasPrefix(e.Name(), ".") {
				out[prefix+e.Name()] = fi.Size()
			}
		}
		return out
	}
	c, err := minio.New(rs.srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(rs.srv.AccessKey, rs.srv.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	for o := range c.ListObjects(context.Background(), rs.bkt, minio.ListObjectsOptions{Prefix: "team/ds/" + prefix, Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		out[strings.TrimPrefix(o.Key, "team/ds/")] = o.Size
	}
	return out
}

// lacking sums the sizes of the objects in a that b does not have.
func lacking(a, b map[string]int64) (n int, bytes int64) {
	for k, s := range a {
		if _, ok := b[k]; !ok {
			n++
			bytes += s
		}
	}
	return n, bytes
}

// replicateJSONOf decodes `dx replicate --json`.
type replicateOut struct {
	Refs []struct {
		Name, Old, New, Status, Error string
	} `json:"refs"`
	Packs      int   `json:"packs"`
	PackBytes  int64 `json:"pack_bytes"`
	IndexBytes int64 `json:"index_bytes"`
	Src, Dst   struct {
		List, Get, Put int64
	}
}

func replicateJSONOf(t *testing.T, out string) replicateOut {
	t.Helper()
	var r replicateOut
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("replicate --json: %v\n%s", err, out)
	}
	return r
}

// regions is a repository with two remotes on two MinIO servers, a and b,
// b reached through a counting proxy.
type regions struct {
	w      *repoDir
	a, b   remoteSetup
	bProxy *s3Proxy
}

func newRegions(t *testing.T) *regions {
	srvA, srvB := s3test.Start(t), s3test.Start(t)
	g := &regions{a: s3Remote(t, srvA), b: s3Remote(t, srvB)}
	g.bProxy = newS3Proxy(t, srvB.Endpoint)
	g.w = newRepo(t)
	g.w.env = append(srvA.Env(), "TMPDIR="+t.TempDir()) // both servers take the same keys
	g.w.ok(append([]string{"remote", "add", "a", g.a.url}, g.a.flags...)...)
	g.w.ok("remote", "add", "b", g.b.url, "--endpoint", g.bProxy.url, "--path-style")
	return g
}

// TestReplicateRegions: a commit pushed to region A reaches region B with
// `dx replicate`, which copies exactly the packs B lacked (and their
// indexes); a clone of B is the same tree and passes fsck; a second run
// with nothing new reads only refs; a directory works as the destination,
// from outside any repository.
func TestReplicateRegions(t *testing.T) {
	g := newRegions(t)
	w := g.w
	table, _ := genCSV(1, 40000)
	w.write("data/t.csv", table)
	writeBytes(t, w.path("blobs/r.bin"), randomBytes(3, 3<<20))
	w.ok("commit", "-m", "v1")
	w.ok("tag", "v1")
	model := filepath.Join(t.TempDir(), "model.bin")
	writeBytes(t, model, randomBytes(5, 1<<20))
	w.ok("model", "register", "churn", "--artifact", model, "--data", "HEAD:data/t.csv")
	w.ok("push", "a", "--all")

	check := func(what string) {
		t.Helper()
		aPacks, bPacks := objectSizes(t, g.a, "packs/"), objectSizes(t, g.b, "packs/")
		aIdx := objectSizes(t, g.a, "index/")
		nPacks, packBytes := lacking(aPacks, bPacks)
		_, idxBytes := lacking(aIdx, objectSizes(t, g.b, "index/"))
		rep := replicateJSONOf(t, w.ok("replicate", "a", "b", "--all", "--json"))
		t.Logf("%s: copied %d packs, %d + %d bytes; B lacked %d packs of %d bytes", what, rep.Packs, rep.PackBytes, rep.IndexBytes, nPacks, packBytes)
		if rep.Packs != nPacks || rep.PackBytes != packBytes || rep.IndexBytes != idxBytes || packBytes == 0 {
			t.Fatalf("%s: copied %d packs (%d bytes) and %d index bytes; B lacked %d packs (%d bytes) and %d index bytes",
				what, rep.Packs, rep.PackBytes, rep.IndexBytes, nPacks, packBytes, idxBytes)
		}
		c := g.b.clone(t)
		c.ok("fsck")
		if d := diffManifests(manifest(t, w.dir), manifest(t, c.dir)); len(d) > 0 {
			t.Fatalf("%s: a clone of B differs: %v", what, d)
		}
		if !strings.Contains(c.ok("tag"), "v1") || !strings.Contains(c.ok("model", "list"), "churn") {
			t.Fatalf("%s: the tag or the model did not travel", what)
		}
	}
	check("first run")
	w.write("data/t.csv", table+"40000,appended,1.00,new\n")
	writeBytes(t, w.path("blobs/s.bin"), randomBytes(4, 2<<20))
	w.ok("commit", "-m", "v2")
	w.ok("push", "a")
	check("after one more commit")

	// Nothing new: a LIST of A's refs and a GET per ref on each side.
	g.bProxy.reset()
	rep := replicateJSONOf(t, w.ok("replicate", "a", "b", "--all", "--json"))
	reqs, writes := g.bProxy.reset()
	t.Logf("nothing new: A %+v; B %d HTTP requests (%+v)", rep.Src, reqs, rep.Dst)
	if rep.PackBytes != 0 || rep.Src.List != 1 || rep.Src.Get != 3 || rep.Src.Put != 0 ||
		rep.Dst.List != 0 || rep.Dst.Get != 3 || rep.Dst.Put != 0 {
		t.Fatalf("a run with nothing new: %+v", rep)
	}
	// On the wire: the opening check (one LIST of at most one key) and
	// a GET per ref (main, v1, churn).
	if reqs != 4 || writes != 0 {
		t.Fatalf("a run with nothing new made %d requests (%d writes) to B", reqs, writes)
	}

	// Region B to a directory, by URLs, outside any repository.
	dirC := remoteSetup{name: "file", dir: filepath.Join(t.TempDir(), "c")}
	dirC.url = "file://" + dirC.dir
	cacheHome := t.TempDir()
	out := runDxEnv(t, t.TempDir(), nil, append(g.b.env, "XDG_CACHE_HOME="+cacheHome), "replicate", g.b.url, dirC.url, "--all",
		"--src-endpoint", "http://"+g.b.srv.Endpoint, "--path-style")
	if out.code != 0 {
		t.Fatalf("replicate to a directory: exit %d: %s", out.code, out.stderr)
	}
	// The indexes of remotes named by URL are cached for the next run.
	if idx, _ := filepath.Glob(filepath.Join(cacheHome, "dx", "remotes", "*", "index", "*.idx")); len(idx) == 0 {
		t.Fatal("no index cached for the URL remotes")
	}
	if n, _ := lacking(objectSizes(t, g.b, "packs/"), objectSizes(t, dirC, "packs/")); n != 0 {
		t.Fatalf("%d packs of B did not reach the directory", n)
	}
	c := dirC.clone(t)
	c.ok("fsck")
	if d := diffManifests(manifest(t, w.dir), manifest(t, c.dir)); len(d) > 0 {
		t.Fatalf("a clone of the directory differs: %v", d)
	}
}

// TestReplicateDiverged: a branch of B that moved on its own is not
// overwritten: exit 5, one line naming it, and B exactly as it was.
func TestReplicateDiverged(t *testing.T) {
	g := newRegions(t)
	w := g.w
	w.write("a.txt", "a\n")
	w.ok("commit", "-m", "base")
	w.ok("push", "a")
	w.ok("replicate", "a", "b")
	other := g.b.clone(t)
	other.write("b.txt", "written in region B\n")
	other.ok("commit", "-m", "B's own")
	other.ok("push")
	w.write("a.txt", "a2\n")
	w.ok("commit", "-m", "A's next")
	w.ok("push", "a")
	before := map[string]int64{}
	for _, p := range []string{"packs/", "index/", "refs/", "events/"} {
		for k, v := range objectSizes(t, g.b, p) {
			before[k] = v
		}
	}
	res := w.exits(exitNotFastForward, "main moved on its own", "replicate", "a", "b")
	if !strings.Contains(res.stdout, "diverged") {
		t.Fatalf("the ref is not reported as diverged:\n%s", res.stdout)
	}
	after := map[string]int64{}
	for _, p := range []string{"packs/", "index/", "refs/", "events/"} {
		for k, v := range objectSizes(t, g.b, p) {
			after[k] = v
		}
	}
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("B changed:\nbefore %v\nafter  %v", before, after)
	}
	if c := g.b.clone(t); !strings.Contains(c.ok("log", "--oneline"), "B's own") {
		t.Fatal("B's own commit was lost")
	}
}

// TestReplicateKilled: dx replicate killed (SIGKILL) at random requests
// while it copies a large commit, round after round: after each kill a
// clone of B is whole (B names only what it holds), and over all the
// rounds no pack or index was written twice; the last run completes B.
func TestReplicateKilled(t *testing.T) {
	g := newRegions(t)
	w := g.w
	w.write("small.txt", "v1\n")
	w.ok("commit", "-m", "v1")
	w.ok("push", "a")
	w.ok("replicate", "a", "b")
	v1 := manifest(t, w.dir)
	for i := range 3 {
		writeBytes(t, w.path(fmt.Sprintf("big/%d.bin", i)), randomBytes(uint64(10+i), 24<<20))
	}
	w.ok("commit", "-m", "v2")
	w.ok("push", "a")
	aPacks := objectSizes(t, g.a, "packs/")
	want, wantBytes := lacking(aPacks, objectSizes(t, g.b, "packs/"))
	g.bProxy.mu.Lock()
	clear(g.bProxy.completed)
	g.bProxy.mu.Unlock()

	r := rand.New(rand.NewPCG(17, 17))
	kills := 0
	var midCopy atomic.Int32
	for round := 0; ; round++ {
		if round > 40 {
			t.Fatal("replicate never completed")
		}
		cmd := exec.Command(dxBin, "replicate", "a", "b")
		cmd.Dir = w.dir
		cmd.Env = append(append(os.Environ(), "DX_AUTHOR=Test <test@example.com>"), w.env...)
		killAt := 4 + 2*round + r.IntN(4)
		var once sync.Once
		// The process, handed over once Start has set it: dx may send
		// its first requests before Start returns.
		started := make(chan *os.Process, 1)
		g.bProxy.mu.Lock()
		g.bProxy.requests, g.bProxy.uploads = 0, 0
		g.bProxy.onRequest = func(n int) {
			if n == killAt {
				once.Do(func() {
					g.bProxy.mu.Lock()
					if g.bProxy.uploads > 0 {
						midCopy.Add(1)
					}
					g.bProxy.mu.Unlock()
					_ = (<-started).Kill()
				})
			}
		}
		g.bProxy.mu.Unlock()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		started <- cmd.Process
		err := cmd.Wait()
		g.bProxy.settle()
		g.bProxy.mu.Lock()
		g.bProxy.onRequest = nil
		g.bProxy.mu.Unlock()
		if err == nil {
			t.Logf("completed in round %d after %d kills", round, kills)
			break
		}
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: replicate failed otherwise: %v", round, err)
		}
		kills++
		// B names only what it holds: a clone is v1 or v2, whole.
		c := g.b.clone(t)
		c.ok("fsck")
		got := manifest(t, c.dir)
		if d := diffManifests(v1, got); len(d) > 0 {
			if d2 := diffManifests(manifest(t, w.dir), got); len(d2) > 0 {
				t.Fatalf("round %d: a clone of B is neither v1 nor v2: %v", round, d)
			}
		}
	}
	if kills < 3 || midCopy.Load() == 0 {
		t.Fatalf("%d kills landed, %d of them in the middle of a pack", kills, midCopy.Load())
	}
	c := g.b.clone(t)
	c.ok("fsck")
	if d := diffManifests(manifest(t, w.dir), manifest(t, c.dir)); len(d) > 0 {
		t.Fatalf("a clone of B after the last run differs: %v", d)
	}
	// Each pack and index went up once, across every run.
	g.bProxy.mu.Lock()
	defer g.bProxy.mu.Unlock()
	packs := 0
	var bytes int64
	bPacks := objectSizes(t, g.b, "packs/")
	for path, n := range g.bProxy.completed {
		if n > 1 && (strings.Contains(path, "/packs/") || strings.Contains(path, "/index/")) {
			t.Fatalf("%s was written %d times", path, n)
		}
		if i := strings.Index(path, "/packs/"); i >= 0 {
			packs++
			bytes += bPacks[path[i+1:]]
		}
	}
	t.Logf("%d kills (%d in the middle of a pack); %d packs of %d bytes written once each (B lacked %d of %d bytes)", kills, midCopy.Load(), packs, bytes, want, wantBytes)
	if packs != want || bytes != wantBytes {
		t.Fatalf("wrote %d packs of %d bytes over all runs; B lacked %d packs of %d bytes", packs, bytes, want, wantBytes)
	}
}

// TestReplicateErrors: wrong credentials, an unreachable endpoint, the
// same remote twice and an unknown branch each stop replicate with one
// line and their exit code, before anything is written.
func TestReplicateErrors(t *testing.T) {
	srv := s3test.Start(t)
	a, b := s3Remote(t, srv), s3Remote(t, srv)
	w := a.repo(t)
	w.write("a.txt", "a\n")
	w.ok("commit", "-m", "a")
	w.ok("push")
	w.ok(append([]string{"remote", "add", "b", b.url}, b.flags...)...)
	w.ok("remote", "add", "down", "s3://bkt/x", "--endpoint", "http://127.0.0.1:1", "--path-style")
	w.ok("remote", "add", "again", a.url, "--endpoint", "http://"+srv.Endpoint+"/", "--path-style")
	w.exits(exitError, "cannot reach", "replicate", "origin", "down")
	w.exits(exitError, "cannot reach", "replicate", "down", "b")
	w.exits(exitUsage, "same remote", "replicate", "origin", "again")
	w.exits(exitUsage, "same remote", "replicate", "origin", "origin")
	w.exits(exitError, `no branch, tag or model "nope"`, "replicate", "origin", "b", "nope")
	w.exits(exitError, "no such remote", "replicate", "origin", "nowhere")
	w.exits(exitUsage, "exclude each other", "replicate", "origin", "b", "main", "--all")
	w.env = []string{"AWS_ACCESS_KEY_ID=" + srv.AccessKey, "AWS_SECRET_ACCESS_KEY=wrong-secret", "AWS_REGION=us-east-1"}
	w.exits(exitError, "access denied", "replicate", "origin", "b")
	w.env = srv.Env()
	if n := len(objectSizes(t, b, "packs/")) + len(objectSizes(t, b, "refs/")); n != 0 {
		t.Fatalf("failed runs wrote %d objects to B", n)
	}
	// Outside a repository a name means nothing.
	res := runDxEnv(t, t.TempDir(), nil, srv.Env(), "replicate", "origin", "b")
	checkFailure(t, res, "not a URL", []string{"replicate"})
	w.ok("replicate", "origin", "b")
}

// TestReplicateRefusesDamage: a directory remote as the source whose
// packs were damaged (a flipped byte, a truncated pack) is refused with
// one line, and no ref of the destination names what failed.
func TestReplicateRefusesDamage(t *testing.T) {
	src := fileRemote(t)
	dst := s3Remote(t, s3test.Start(t))
	w := src.repo(t)
	w.env = dst.env
	w.ok(append([]string{"remote", "add", "b", dst.url}, dst.flags...)...)
	w.write("a.txt", "a\n")
	w.ok("commit", "-m", "base")
	w.ok("push", "origin")
	w.ok("replicate", "origin", "b")
	base := objectSizes(t, src, "packs/")
	writeBytes(t, w.path("big.bin"), randomBytes(6, 2<<20))
	w.ok("commit", "-m", "big")
	w.ok("push", "origin")
	var newest string
	for k, n := range objectSizes(t, src, "packs/") {
		if _, ok := base[k]; !ok && n > 1<<20 {
			newest = filepath.Join(src.dir, filepath.FromSlash(k))
		}
	}
	raw, err := os.ReadFile(newest)
	if err != nil {
		t.Fatal(err)
	}
	refsBefore := fmt.Sprint(objectSizes(t, dst, "refs/heads/"))
	damaged := append([]byte(nil), raw...)
	damaged[len(damaged)/2] ^= 0x40
	writeBytes(t, newest, damaged)
	w.exits(exitError, "integrity check failed", "replicate", "origin", "b")
	writeBytes(t, newest, raw[:len(raw)-100])
	w.exits(exitError, "its index says", "replicate", "origin", "b")
	if got := fmt.Sprint(objectSizes(t, dst, "refs/heads/")); got != refsBefore {
		t.Fatalf("B's refs moved: %s, were %s", got, refsBefore)
	}
	c := dst.clone(t)
	c.ok("fsck")
	if strings.Contains(c.ok("log", "--oneline"), "big") {
		t.Fatal("B names the commit whose data failed")
	}
	writeBytes(t, newest, raw)
	w.ok("replicate", "origin", "b")
	c = dst.clone(t)
	c.ok("fsck")
	if d := diffManifests(manifest(t, w.dir), manifest(t, c.dir)); len(d) > 0 {
		t.Fatalf("a clone of B differs: %v", d)
	}
}

// TestReplicateDeletes: a branch deleted on A (push --delete) is deleted
// on B by the next replicate, which says so; a clone of B no longer has
// it, and B's own branch stays.
func TestReplicateDeletes(t *testing.T) {
	g := newRegions(t)
	w := g.w
	w.write("a.txt", "a\n")
	w.ok("commit", "-m", "base")
	w.ok("branch", "exp")
	w.ok("push", "a", "main", "exp")
	w.ok("replicate", "a", "b")
	own := g.b.clone(t)
	own.ok("branch", "mine")
	own.ok("checkout", "mine")
	own.write("b.txt", "B's own\n")
	own.ok("commit", "-m", "B's own")
	own.ok("push", "origin", "mine")
	w.ok("push", "a", "--delete", "exp")
	out := w.ok("replicate", "a", "b")
	if !strings.Contains(out, "deleted") || !strings.Contains(out, "exp") {
		t.Fatalf("replicate does not say exp was deleted:\n%s", out)
	}
	branches := g.b.clone(t).ok("branch", "-r")
	if strings.Contains(branches, "exp") || !strings.Contains(branches, "mine") || !strings.Contains(branches, "main") {
		t.Fatalf("B's branches after the delete:\n%s", branches)
	}
	if out := w.ok("replicate", "a", "b"); strings.Contains(out, "deleted") {
		t.Fatalf("a second run deletes again:\n%s", out)
	}
}
