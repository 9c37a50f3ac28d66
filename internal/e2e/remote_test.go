package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/s3test"
)

// remoteSetup is where a test's remote lives and how dx reaches it.
type remoteSetup struct {
	name  string
	url   string
	flags []string // for remote add and clone
	env   []string
	srv   *s3test.Server
	dir   string // file remotes: the directory
	bkt   string // S3 remotes: the bucket
}

func fileRemote(t *testing.T) remoteSetup {
	dir := filepath.Join(t.TempDir(), "remote")
	return remoteSetup{name: "file", url: "file://" + dir, dir: dir}
}

var bucketSeq struct {
	sync.Mutex
	n int
}

func s3Remote(t *testing.T, srv *s3test.Server) remoteSetup {
	bucketSeq.Lock()
	bucketSeq.n++
	b := fmt.Sprintf("dx-e2e-%d", bucketSeq.n)
	bucketSeq.Unlock()
	srv.MakeBucket(t, b)
	return remoteSetup{
		name: "s3", url: "s3://" + b + "/team/ds", srv: srv, bkt: b,
		flags: []string{"--endpoint", "http://" + srv.Endpoint, "--path-style"},
		env:   srv.Env(),
	}
}

// bothRemotes runs fn against a directory remote and a real MinIO.
func bothRemotes(t *testing.T, fn func(t *testing.T, rs remoteSetup)) {
	t.Run("file", func(t *testing.T) { fn(t, fileRemote(t)) })
	t.Run("s3", func(t *testing.T) { fn(t, s3Remote(t, s3test.Start(t))) })
}

func (rs remoteSetup) repo(t *testing.T) *repoDir {
	r := newRepo(t)
	r.env = rs.env
	r.ok(append([]string{"remote", "add", "origin", rs.url}, rs.flags...)...)
	return r
}

func (rs remoteSetup) clone(t *testing.T, extra ...string) *repoDir {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "clone")
	args := append(append([]string{"clone", rs.url, dir}, rs.flags...), extra...)
	res := runDxEnv(t, t.TempDir(), nil, rs.env, args...)
	if res.code != 0 {
		t.Fatalf("dx clone: exit %d: %s", res.code, res.stderr)
	}
	return &repoDir{t: t, dir: dir, env: rs.env}
}

func writeBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 99))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

func pushJSONOf(t *testing.T, out string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("push --json: %v\n%s", err, out)
	}
	return m
}

// TestRemoteRoundTrip: push, clone and pull give byte-identical trees, on
// both kinds of remote; the bucket holds plain S3 objects.
func TestRemoteRoundTrip(t *testing.T) {
	bothRemotes(t, func(t *testing.T, rs remoteSetup) {
		a := rs.repo(t)
		table, _ := genCSV(1, 40000)
		a.write("data/table.csv", table)
		writeBytes(t, a.path("blobs/random.bin"), randomBytes(2, 3<<20))
		a.write("deep/a/b/c/d/e.txt", "deep\n")
		a.write("names/ünïcode and space.txt", "u\n")
		a.write("empty", "")
		if err := os.WriteFile(a.path("run.sh"), []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("data/table.csv", a.path("link")); err != nil {
			t.Fatal(err)
		}
		a.ok("commit", "-m", "first")
		a.ok("tag", "v1")
		out := a.ok("push", "--all", "--json")
		pj := pushJSONOf(t, out)
		if pj["objects"].(float64) == 0 || pj["bytes_sent"].(float64) == 0 {
			t.Fatalf("push sent nothing: %s", out)
		}
		// A second push of the same thing sends nothing.
		pj = pushJSONOf(t, a.ok("push", "--json"))
		if pj["objects"].(float64) != 0 {
			t.Fatalf("a no-op push uploaded %v objects", pj["objects"])
		}

		b := rs.clone(t)
		if d := diffManifests(manifest(t, a.dir), manifest(t, b.dir)); len(d) > 0 {
			t.Fatalf("clone differs: %v", d)
		}
		if out := b.ok("status"); !strings.Contains(out, "clean") {
			t.Fatalf("status after clone: %s", out)
		}
		if !strings.Contains(b.ok("tag"), "v1") {
			t.Fatal("the tag did not travel")
		}
		b.ok("fsck")

		// An edit in the clone comes back with pull.
		b.write("data/new.txt", "new\n")
		table2 := strings.Replace(table, "name17,", "NAME17,", 1) + "40000,name40000,1.00,n\n"
		b.write("data/table.csv", table2)
		b.ok("commit", "-m", "second")
		b.ok("push")
		res := a.ok("pull", "--json")
		if !strings.Contains(res, `"fast_forward": true`) {
			t.Fatalf("pull was not a fast-forward: %s", res)
		}
		if d := diffManifests(manifest(t, a.dir), manifest(t, b.dir)); len(d) > 0 {
			t.Fatalf("pull differs: %v", d)
		}
		a.ok("fsck")
		if !strings.Contains(a.ok("log", "--oneline"), "second") {
			t.Fatal("pulled commit not in log")
		}
		if rs.srv != nil {
			checkPlainS3(t, rs)
		}
	})
}

// checkPlainS3 lists and reads the bucket with another S3 client: the aws
// CLI where installed, and minio-go.
func checkPlainS3(t *testing.T, rs remoteSetup) {
	t.Helper()
	ctx := context.Background()
	c, err := minio.New(rs.srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(rs.srv.AccessKey, rs.srv.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for o := range c.ListObjects(ctx, rs.bkt, minio.ListObjectsOptions{Prefix: "team/ds/", Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		parts := strings.Split(strings.TrimPrefix(o.Key, "team/ds/"), "/")
		kinds[parts[0]]++
	}
	for _, k := range []string{"packs", "index", "refs", "FORMAT", "events"} {
		if kinds[k] == 0 {
			t.Errorf("bucket has no %s objects: %v", k, kinds)
		}
	}
	if _, err := exec.LookPath("aws"); err != nil {
		t.Log("aws CLI not installed; listed with minio-go only")
		return
	}
	cmd := exec.Command("aws", "--endpoint-url", "http://"+rs.srv.Endpoint, "s3", "cp", "s3://"+rs.bkt+"/team/ds/refs/heads/main", "-")
	cmd.Env = append(os.Environ(), rs.env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws s3 cp: %v", err)
	}
	if _, err := dag.ParseID(strings.TrimSpace(string(out))); err != nil {
		t.Fatalf("aws read refs/heads/main as %q", out)
	}
}

// TestNonFastForward: a push over a branch that moved on the remote is
// refused with a clear message; after pull (a merge) it goes through and
// both commits are on the remote.
func TestNonFastForward(t *testing.T) {
	rs := fileRemote(t)
	a := rs.repo(t)
	a.write("a.txt", "a\n")
	a.ok("commit", "-m", "base")
	a.ok("push")
	b := rs.clone(t)
	a.write("from-a.txt", "a\n")
	a.ok("commit", "-m", "from a")
	a.ok("push")
	b.write("from-b.txt", "b\n")
	b.ok("commit", "-m", "from b")
	res := b.fails("non-fast-forward: pull first", "push")
	if res.code != exitNotFastForward {
		t.Fatalf("exit %d, want %d", res.code, exitNotFastForward)
	}
	b.ok("pull")
	b.ok("push")
	c := rs.clone(t)
	log := c.ok("log", "--oneline")
	for _, want := range []string{"from a", "from b", "base"} {
		if !strings.Contains(log, want) {
			t.Fatalf("remote history lacks %q:\n%s", want, log)
		}
	}
	// --force drops them, and says so in the status.
	a.write("x.txt", "x\n")
	a.ok("commit", "-m", "diverged")
	a.fails("non-fast-forward", "push")
	if out := a.ok("push", "--force"); !strings.Contains(out, "forced") {
		t.Fatalf("forced push: %s", out)
	}
}

// TestIncrementalPushBytes: pushing the table's next version sends about
// what the local store grew by (its new compressed chunks and metadata).
func TestIncrementalPushBytes(t *testing.T) {
	rs := fileRemote(t)
	a := rs.repo(t)
	table, _ := genCSV(3, 150000)
	a.write("t.csv", table)
	a.ok("commit", "-m", "v1")
	a.ok("push")
	// Next version: 2% appended, a few scattered updates.
	lines := strings.SplitAfter(table, "\n")
	r := rand.New(rand.NewPCG(4, 4))
	for i := 0; i < 15; i++ {
		j := 1 + r.IntN(len(lines)-2)
		if !strings.Contains(lines[j], "multi") && !strings.HasPrefix(lines[j], "line") {
			lines[j] = strings.Replace(lines[j], ",name", ",NAME", 1)
		}
	}
	var sb strings.Builder
	for _, l := range lines {
		sb.WriteString(l)
	}
	for i := 150000; i < 153000; i++ {
		fmt.Fprintf(&sb, "%d,name%d,%d.00,appended\n", i, i, i%1000)
	}
	a.write("t.csv", sb.String())
	before := dirSize(t, a.path(".dx/packs"))
	a.ok("commit", "-m", "v2")
	grew := dirSize(t, a.path(".dx/packs")) - before
	pj := pushJSONOf(t, a.ok("push", "--json"))
	sent := int64(pj["bytes_sent"].(float64))
	t.Logf("store grew %d bytes; push sent %d (%d data, %d meta)", grew, sent, int64(pj["data_bytes"].(float64)), int64(pj["meta_bytes"].(float64)))
	if grew <= 0 || sent > grew*12/10+16<<10 {
		t.Fatalf("push sent %d bytes for %d bytes of new local data", sent, grew)
	}
	if sent < grew/2 {
		t.Fatalf("push sent %d bytes, less than half of the %d new bytes: not everything went", sent, grew)
	}
	c := rs.clone(t)
	if d := diffManifests(manifest(t, a.dir), manifest(t, c.dir)); len(d) > 0 {
		t.Fatalf("clone differs: %v", d)
	}
}

// TestCorruptRemotePack: a flipped byte in a remote pack makes pull fail
// with an integrity error naming the object, and writes nothing locally.
func TestCorruptRemotePack(t *testing.T) {
	rs := fileRemote(t)
	a := rs.repo(t)
	a.write("base.txt", "base\n")
	a.ok("commit", "-m", "base")
	a.ok("push")
	b := rs.clone(t)
	writeBytes(t, a.path("big.bin"), randomBytes(5, 2<<20))
	a.ok("commit", "-m", "big")
	pj := pushJSONOf(t, a.ok("push", "--json"))
	if pj["chunks"].(float64) == 0 {
		t.Fatal("nothing pushed")
	}
	// Flip a byte in the middle of the newest data pack.
	packs, _ := filepath.Glob(filepath.Join(rs.dir, "packs", "*.pack"))
	var biggest string
	var size int64
	for _, p := range packs {
		if fi, _ := os.Stat(p); fi.Size() > size {
			biggest, size = p, fi.Size()
		}
	}
	raw, err := os.ReadFile(biggest)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0x40
	if err := os.WriteFile(biggest, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	storeBefore := manifest(t, b.path(".dx/packs"))
	wtBefore := manifest(t, b.dir)
	res := b.fails("integrity check failed", "pull")
	if !strings.Contains(res.stderr, "object ") || !strings.Contains(res.stderr, ".pack") {
		t.Fatalf("error does not name the object and pack: %s", res.stderr)
	}
	if d := diffManifests(storeBefore, manifest(t, b.path(".dx/packs"))); len(d) > 0 {
		t.Fatalf("the failed pull wrote into the local store: %v", d)
	}
	if d := diffManifests(wtBefore, manifest(t, b.dir)); len(d) > 0 {
		t.Fatalf("the failed pull changed the worktree: %v", d)
	}
	b.ok("fsck")
	if strings.Contains(b.ok("log", "--oneline", "--all"), "big") {
		t.Fatal("a ref moved to the commit whose data failed")
	}
}

// TestCloneRefusesHostileTree: a remote whose tree names ../x cannot be
// cloned, and nothing is written outside (or left inside) the target.
func TestCloneRefusesHostileTree(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "remote")
	craftRemote(t, dir, func(add func(dag.Kind, []byte) dag.ID) dag.ID {
		chunk := add(dag.KindChunk, []byte("pwned\n"))
		file := add(dag.KindFile, (&dag.FileNode{Chunks: []dag.ChunkRef{{ID: chunk, Len: 6}}}).Encode())
		return evilCommit(t, add, add(dag.KindTree, rawTreeNode("../x", dag.ModeFile, file)))
	})
	parent := t.TempDir()
	target := filepath.Join(parent, "clone")
	res := runDx(t, parent, nil, "clone", "file://"+dir, target)
	checkFailure(t, res, "tree", []string{"clone"})
	if _, err := os.Stat(filepath.Join(parent, "x")); err == nil {
		t.Fatal("clone wrote ../x")
	}
	if _, err := os.Stat(target); err == nil {
		t.Fatal("a failed clone left its directory behind")
	}
}

// TestRemoteErrors: wrong credentials, a missing bucket, an unreachable
// endpoint and a bad URL each give one clear line and a non-zero exit.
func TestRemoteErrors(t *testing.T) {
	srv := s3test.Start(t)
	rs := s3Remote(t, srv)
	r := newRepo(t)
	r.write("a", "a\n")
	r.ok("commit", "-m", "a")
	ep := []string{"--endpoint", "http://" + srv.Endpoint, "--path-style"}
	r.ok(append([]string{"remote", "add", "good", rs.url}, ep...)...)
	r.ok(append([]string{"remote", "add", "nobucket", "s3://no-such-bucket/x"}, ep...)...)
	r.ok("remote", "add", "down", "s3://bkt/x", "--endpoint", "http://127.0.0.1:1", "--path-style")
	r.env = []string{"AWS_ACCESS_KEY_ID=" + srv.AccessKey, "AWS_SECRET_ACCESS_KEY=wrong-secret", "AWS_REGION=us-east-1"}
	r.fails("access denied", "push", "good")
	r.env = srv.Env()
	r.fails("does not exist", "push", "nobucket")
	start := time.Now()
	r.fails("cannot reach", "push", "down")
	t.Logf("unreachable endpoint reported after %s", time.Since(start).Round(time.Millisecond))
	r.fails("unsupported scheme", "remote", "add", "bad", "ftp://x/y")
	r.fails("no such remote", "push", "nowhere")
	r.fails("already exists", "remote", "add", "good", "file:///tmp/x")
	out := r.ok("remote", "list", "--json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 3 {
		t.Fatalf("remote list --json: %v %s", err, out)
	}
	r.ok("push", "good")
	r.ok("remote", "remove", "good")
	if strings.Contains(r.ok("branch", "-r"), "good/") {
		t.Fatal("remote-tracking branches left after remote remove")
	}
}

// TestConcurrentPushers: 8 clones push to one branch at once; each round
// exactly one wins and the rest are told to pull; after pull-merge-push
// loops every pusher's commit is on the remote.
func TestConcurrentPushers(t *testing.T) {
	rs := s3Remote(t, s3test.Start(t))
	seed := rs.repo(t)
	seed.write("README", "shared\n")
	seed.ok("commit", "-m", "base")
	seed.ok("push")
	const n = 8
	pushers := make([]*repoDir, n)
	for i := range pushers {
		pushers[i] = rs.clone(t)
		pushers[i].write(fmt.Sprintf("p%d/data.txt", i), fmt.Sprintf("pusher %d\n", i))
		pushers[i].ok("commit", "-m", fmt.Sprintf("work of pusher %d", i))
	}
	pending := pushers
	for round := 0; len(pending) > 0; round++ {
		if round > n {
			t.Fatalf("%d pushers still pending after %d rounds", len(pending), round)
		}
		results := make([]result, len(pending))
		var wg sync.WaitGroup
		for i, p := range pending {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = p.run("push")
			}()
		}
		wg.Wait()
		var losers []*repoDir
		for i, res := range results {
			switch {
			case res.code == 0:
			case res.code == exitNotFastForward && strings.Contains(res.stderr, "non-fast-forward: pull first"):
				losers = append(losers, pending[i])
			default:
				t.Fatalf("round %d: push failed otherwise: exit %d: %s", round, res.code, res.stderr)
			}
		}
		if won := len(pending) - len(losers); won != 1 {
			t.Fatalf("round %d: %d pushers won, want exactly 1", round, won)
		}
		for _, p := range losers {
			p.ok("pull")
		}
		pending = losers
	}
	c := rs.clone(t)
	log := c.ok("log", "--oneline")
	for i := 0; i < n; i++ {
		if !strings.Contains(log, fmt.Sprintf("work of pusher %d", i)) {
			t.Fatalf("pusher %d's commit is not on the remote:\n%s", i, log)
		}
		if _, err := os.Stat(c.path(fmt.Sprintf("p%d/data.txt", i))); err != nil {
			t.Fatalf("pusher %d's file is missing from the clone", i)
		}
	}
	c.ok("fsck")
}

// TestPushServerKilled: MinIO killed in the middle of a push; the push
// fails clearly, the remote names no missing object, and after a restart
// the retried push completes without sending the finished packs again.
func TestPushServerKilled(t *testing.T) {
	srv := s3test.Start(t)
	rs := s3Remote(t, srv)
	a := rs.repo(t)
	for i := 0; i < 5; i++ {
		writeBytes(t, a.path(fmt.Sprintf("blob%d.bin", i)), randomBytes(uint64(10+i), 20<<20))
	}
	a.ok("commit", "-m", "100 MiB")
	ctx := context.Background()
	mc, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	count := func(prefix string) int {
		n := 0
		for o := range mc.ListObjects(ctx, rs.bkt, minio.ListObjectsOptions{Prefix: "team/ds/" + prefix, Recursive: true}) {
			if o.Err != nil {
				t.Fatal(o.Err)
			}
			n++
		}
		return n
	}
	cmd := exec.Command(dxBin, "push", "-j", "1")
	cmd.Dir = a.dir
	cmd.Env = append(os.Environ(), rs.env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for count("index/") < 1 {
		if time.Now().After(deadline) {
			t.Fatal("no pack finished within 60 s")
		}
		select {
		case err := <-done:
			t.Fatalf("push finished before the server could be killed (%v); make the data bigger", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	srv.Stop()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("push succeeded with the server killed")
		}
	case <-time.After(120 * time.Second):
		cmd.Process.Kill()
		t.Fatal("push hung after the server died")
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "dx: ") {
		t.Fatalf("no clear error from the failed push: %q", stderr.String())
	}
	t.Logf("push with the server killed: %s", lines[len(lines)-1])
	srv.Restart(t)
	indexed := count("index/")
	if count("refs/") != 0 {
		t.Fatal("a ref was written by the failed push")
	}
	pj := pushJSONOf(t, a.ok("push", "--json"))
	retried := int(pj["packs"].(float64))
	if final := count("index/"); indexed < 1 || retried+indexed != final {
		t.Fatalf("%d packs were indexed before the kill, the retry sent %d, the remote has %d: finished packs were sent again", indexed, retried, final)
	}
	b := rs.clone(t)
	if d := diffManifests(manifest(t, a.dir), manifest(t, b.dir)); len(d) > 0 {
		t.Fatalf("clone differs: %v", d)
	}
}

// TestSparsePull: clone --path fetches only the content under the path;
// status is clean, a commit there keeps everything else, pull --path widens
// the repository, and a full clone sees every change.
func TestSparsePull(t *testing.T) {
	rs := fileRemote(t)
	a := rs.repo(t)
	writeBytes(t, a.path("images/cats/c1.bin"), randomBytes(20, 300<<10))
	writeBytes(t, a.path("images/cats/c2.bin"), randomBytes(21, 300<<10))
	writeBytes(t, a.path("images/dogs/d1.bin"), randomBytes(22, 2<<20))
	writeBytes(t, a.path("images/dogs/d2.bin"), randomBytes(23, 2<<20))
	a.write("labels.csv", "id,label\n1,cat\n2,dog\n")
	a.ok("commit", "-m", "v1")
	a.ok("push")

	dir := filepath.Join(t.TempDir(), "sparse")
	res := runDxEnv(t, t.TempDir(), nil, nil, "clone", rs.url, dir, "--path", "images/cats", "--json")
	if res.code != 0 {
		t.Fatalf("sparse clone: %s", res.stderr)
	}
	var fr map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &fr); err != nil {
		t.Fatal(err)
	}
	if got := int64(fr["bytes"].(float64)); got > 1<<20 {
		t.Fatalf("a sparse clone of 600 KiB of cats fetched %d bytes", got)
	}
	s := &repoDir{t: t, dir: dir}
	m := manifest(t, dir)
	for p := range m {
		if !strings.HasPrefix(p, "images/cats") && p != "images" {
			t.Fatalf("sparse clone checked out %s", p)
		}
	}
	if _, ok := m["images/cats/c1.bin"]; !ok {
		t.Fatalf("sparse clone lacks images/cats/c1.bin: %v", m)
	}
	if out := s.ok("status"); !strings.Contains(out, "clean") {
		t.Fatalf("status of a sparse clone: %s", out)
	}
	if out := s.ok("fsck"); !strings.Contains(out, "ok") {
		t.Fatalf("fsck of a sparse clone: %s", out)
	}
	// Work inside the sparse path; everything else stays as it was.
	writeBytes(t, s.path("images/cats/c3.bin"), randomBytes(24, 100<<10))
	if err := os.Remove(s.path("images/cats/c2.bin")); err != nil {
		t.Fatal(err)
	}
	s.ok("commit", "-m", "cats only")
	s.fails("outside the sparse paths", "commit", "-m", "x", "labels.csv")
	s.fails("outside the sparse paths", "checkout", "HEAD", "--", "labels.csv")
	s.ok("push")
	s.ok("gc")
	s.ok("fsck")

	// Widen: the dogs come in as HEAD has them.
	s.ok("pull", "--path", "images/dogs")
	if _, err := os.Stat(s.path("images/dogs/d2.bin")); err != nil {
		t.Fatal("pull --path did not check out the new path")
	}
	if out := s.ok("status"); !strings.Contains(out, "clean") {
		t.Fatalf("status after widening: %s", out)
	}
	// The full repository sees the sparse commit, with nothing lost.
	a.ok("pull")
	want := map[string]bool{"images/cats/c1.bin": true, "images/cats/c3.bin": true, "images/dogs/d1.bin": true, "images/dogs/d2.bin": true, "labels.csv": true}
	got := manifest(t, a.dir)
	for p := range want {
		if _, ok := got[p]; !ok {
			t.Fatalf("full repository lacks %s after the sparse commit: %v", p, got)
		}
	}
	if _, ok := got["images/cats/c2.bin"]; ok {
		t.Fatal("the sparse commit's removal did not arrive")
	}
	a.ok("fsck")
	// A full repository refuses --path.
	a.fails("not sparse", "pull", "--path", "images")
}

// TestSparseRowDiff: a sparse clone gets the table attributes wherever
// its paths are, so tables inside them diff row by row, between commits and
// against the worktree; a table outside them is listed as not fetched, and
// stops an export of rows with a one-line error naming the remedy.
func TestSparseRowDiff(t *testing.T) {
	rs := fileRemote(t)
	a := rs.repo(t)
	a.write(".dxattributes", "*.csv table=csv key=id\n")
	a.write("in/x.csv", "id,v\n1,a\n2,b\n")
	a.write("out/y.csv", "id,v\n1,a\n2,b\n")
	a.ok("commit", "-m", "one")
	a.write("in/x.csv", "id,v\n1,a\n2,c\n")
	a.write("out/y.csv", "id,v\n1,z\n2,b\n")
	a.ok("commit", "-m", "two")
	a.ok("push")

	dir := filepath.Join(t.TempDir(), "sparse")
	if res := runDxEnv(t, t.TempDir(), nil, nil, "clone", rs.url, dir, "--path", "in"); res.code != 0 {
		t.Fatalf("sparse clone: %s", res.stderr)
	}
	s := &repoDir{t: t, dir: dir}
	if _, err := os.Stat(s.path(".dxattributes")); !os.IsNotExist(err) {
		t.Fatalf(".dxattributes checked out outside the sparse paths: %v", err)
	}
	out := s.ok("diff", "--rows", "--format", "jsonl", "HEAD~1", "HEAD", "--", "in/x.csv")
	if !strings.Contains(out, `"2"`) || !strings.Contains(out, `"c"`) || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Fatalf("row diff of in/x.csv between commits: %q", out)
	}
	s.write("in/x.csv", "id,v\n1,a\n2,c\n3,new\n")
	out = s.ok("diff", "--rows", "--format", "jsonl")
	if !strings.Contains(out, `"3"`) || !strings.Contains(out, `"new"`) || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Fatalf("row diff of the sparse worktree: %q", out)
	}
	// Rows written out must be complete: a table outside the paths stops
	// the export; a listing shows it as not fetched.
	s.fails("dx pull --path out/y.csv", "diff", "--rows", "--format", "jsonl", "HEAD~1", "HEAD", "--", "out/y.csv")
	out = s.ok("diff", "--rows", "HEAD~1", "HEAD")
	if !strings.Contains(out, "in/x.csv (csv key=id): 0 added, 0 removed, 1 changed rows") ||
		!strings.Contains(out, "out/y.csv (csv key=id): modified; rows not compared: outside the sparse paths, not fetched (dx pull --path out/y.csv)") {
		t.Fatalf("row diff listing in a sparse clone:\n%s", out)
	}
	var list []struct {
		Path       string
		Changed    int
		NotFetched bool `json:"not_fetched"`
	}
	if err := json.Unmarshal([]byte(s.ok("diff", "--rows", "--json", "HEAD~1", "HEAD")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Path != "in/x.csv" || list[0].Changed != 1 || list[0].NotFetched ||
		list[1].Path != "out/y.csv" || !list[1].NotFetched {
		t.Fatalf("row diff --json in a sparse clone: %+v", list)
	}
	if out := s.ok("fsck"); !strings.Contains(out, "ok") {
		t.Fatalf("fsck: %s", out)
	}
}
