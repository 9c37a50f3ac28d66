package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/signer"
)

// The key pair the gateway under test accepts.
const (
	serveKey    = "dxtestkey"
	serveSecret = "dxtestsecret"
)

// gateway is a running dx serve.
type gateway struct {
	t        *testing.T
	cmd      *exec.Cmd
	addr     string // host:port
	stderr   bytes.Buffer
	stopOnce sync.Once
}

func (g *gateway) endpoint() string { return "http://" + g.addr }

// startServe runs dx serve on a free loopback port with the test's key
// pair and the given flags, and stops it when the test ends.
func startServe(t *testing.T, dir string, flags ...string) *gateway {
	t.Helper()
	g := &gateway{t: t}
	g.cmd = exec.Command(dxBin, append([]string{"serve", "--listen", "127.0.0.1:0"}, flags...)...)
	g.cmd.Dir = dir
	g.cmd.Env = append(os.Environ(), "DX_SERVE_ACCESS_KEY="+serveKey, "DX_SERVE_SECRET_KEY="+serveSecret)
	g.cmd.Stderr = &g.stderr
	out, err := g.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.stop() })
	line, err := bufio.NewReader(out).ReadString('\n')
	_, addr, ok := strings.Cut(strings.TrimSpace(line), " on http://")
	if err != nil || !ok {
		g.stop()
		t.Fatalf("dx serve printed %q (%v); stderr: %s", line, err, g.stderr.String())
	}
	g.addr = addr
	return g
}

// stop ends the server with SIGTERM and returns what it wrote on stderr.
func (g *gateway) stop() string {
	g.stopOnce.Do(func() {
		_ = g.cmd.Process.Signal(syscall.SIGTERM)
		if err := g.cmd.Wait(); err != nil {
			g.t.Errorf("dx serve: %v; stderr: %s", err, g.stderr.String())
		}
	})
	return g.stderr.String()
}

// stats stops the server and returns the counters it printed (--stats).
func (g *gateway) stats() map[string]int64 {
	g.t.Helper()
	errOut := strings.TrimSpace(g.stop())
	var m map[string]int64
	if err := json.Unmarshal([]byte(errOut[strings.LastIndex(errOut, "\n")+1:]), &m); err != nil {
		g.t.Fatalf("dx serve --stats printed %q: %v", errOut, err)
	}
	return m
}

// requireTool fails the test when a client it drives is not installed:
// these tests check real clients, so a missing one is a failure.
func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is required by the dx serve tests: %v", name, err)
	}
}

// clientEnv is the environment of an AWS client talking to g with the
// given secret, isolated from the user's AWS configuration.
func clientEnv(t *testing.T, secret string) []string {
	none := filepath.Join(t.TempDir(), "none")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env, "AWS_ACCESS_KEY_ID="+serveKey, "AWS_SECRET_ACCESS_KEY="+secret,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE="+none, "AWS_SHARED_CREDENTIALS_FILE="+none,
		"AWS_EC2_METADATA_DISABLED=true")
}

// aws runs the aws CLI against g and returns its stdout, stderr and exit
// code.
func (g *gateway) aws(secret string, args ...string) (string, string, int) {
	g.t.Helper()
	cmd := exec.Command("aws", append([]string{"--endpoint-url", g.endpoint()}, args...)...)
	cmd.Env = clientEnv(g.t, secret)
	res := runProcess(g.t, cmd)
	return res.stdout, res.stderr, res.code
}

// awsOK runs the aws CLI and fails the test unless it succeeds.
func (g *gateway) awsOK(args ...string) string {
	g.t.Helper()
	out, errOut, code := g.aws(serveSecret, args...)
	if code != 0 {
		g.t.Fatalf("aws %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// serveFixture is a repository with two commits on main (the first
// tagged v1), a binary file big enough for many chunks, a table, a path
// that needs encoding, and a model registered on the table.
type serveFixture struct {
	r            *repoDir
	first, model string // the first commit's id; the model's data commit
	files        map[string]string
}

func newServeFixture(t *testing.T) *serveFixture {
	t.Helper()
	f := &serveFixture{r: newRepo(t)}
	r := f.r
	table, _ := genCSV(5, 3000)
	writeBytes(t, r.path("data/big.bin"), randomBytes(41, 6<<20))
	r.write("data/users.csv", table)
	r.write("docs/read me+1.txt", "spaces and a plus\n")
	r.write("a.txt", "first\n")
	r.write("a-b.txt", "sorts before a/ but after a.txt\n")
	r.ok("commit", "-m", "one")
	r.ok("tag", "v1")
	f.first = headID(t, r)
	r.write("data/users.csv", table+"3000,name3000,1.00,new\n")
	r.write("a.txt", "second\n")
	r.ok("commit", "-m", "two")
	f.model = headID(t, r)
	art := filepath.Join(t.TempDir(), "model.bin")
	writeBytes(t, art, randomBytes(42, 10<<10))
	r.ok("model", "register", "churn", "--artifact", art, "--data", "HEAD:data/users.csv")
	f.files = map[string]string{}
	for _, p := range []string{"a-b.txt", "a.txt", "data/big.bin", "data/users.csv", "docs/read me+1.txt"} {
		f.files[p] = ""
	}
	return f
}

// cat is dx cat REV:PATH.
func (f *serveFixture) cat(rev, p string) string {
	return f.r.ok("cat", rev+":"+p)
}

func TestServeAWSCLI(t *testing.T) {
	requireTool(t, "aws")
	f := newServeFixture(t)
	g := startServe(t, f.r.dir, "--repo", "data="+f.r.dir)

	// ListBuckets, and the refs as the bucket's top-level prefixes.
	if out := g.awsOK("s3", "ls"); !strings.Contains(out, " data\n") {
		t.Fatalf("aws s3 ls: %q", out)
	}
	if out := g.awsOK("s3", "ls", "s3://data/"); out != "                           PRE main/\n                           PRE v1/\n" {
		t.Fatalf("aws s3 ls s3://data/: %q", out)
	}

	// Every file at a branch, a tag, a commit id and a model version
	// reads as dx cat reads it.
	refs := map[string]string{"main": "main", "v1": "v1", f.first: f.first, "model:churn@1": f.model}
	for ref, rev := range refs {
		paths := []string{"a.txt", "data/big.bin", "data/users.csv", "docs/read me+1.txt", "a-b.txt"}
		if strings.HasPrefix(ref, "model:") {
			paths = []string{"data/users.csv"}
		}
		for _, p := range paths {
			got := g.awsOK("s3", "cp", "s3://data/"+ref+"/"+p, "-")
			if want := f.cat(rev, p); got != want {
				t.Fatalf("aws s3 cp %s/%s: %d bytes differ from dx cat's %d", ref, p, len(got), len(want))
			}
		}
	}
	// A model version shows only the data it was trained on.
	if _, errOut, code := g.aws(serveSecret, "s3", "cp", "s3://data/model:churn@1/a.txt", "-"); code == 0 || !strings.Contains(errOut, "404") {
		t.Fatalf("a path the model was not trained on: exit %d: %s", code, errOut)
	}

	// The recursive listing holds every file with its size, in key order.
	var keys []string
	for _, line := range strings.Split(strings.TrimSpace(g.awsOK("s3", "ls", "--recursive", "s3://data/main/")), "\n") {
		fields := strings.SplitN(line, " ", 4)
		keys = append(keys, strings.TrimLeft(line[len(fields[0])+1+len(fields[1]):], " "))
	}
	want := []string{}
	for p := range f.files {
		want = append(want, fmt.Sprintf("%d main/%s", len(f.cat("main", p)), p))
	}
	sort.Slice(want, func(i, j int) bool { return strings.SplitN(want[i], " ", 2)[1] < strings.SplitN(want[j], " ", 2)[1] })
	if strings.Join(keys, "\n") != strings.Join(want, "\n") {
		t.Fatalf("aws s3 ls --recursive:\n%s\nwant:\n%s", strings.Join(keys, "\n"), strings.Join(want, "\n"))
	}

	// list-objects-v2 with a delimiter, a prefix, and pages of one key.
	var page struct {
		Contents       []struct{ Key string }
		CommonPrefixes []struct{ Prefix string }
	}
	if err := json.Unmarshal([]byte(g.awsOK("s3api", "list-objects-v2", "--bucket", "data", "--prefix", "main/", "--delimiter", "/")), &page); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(page.Contents) != "[{main/a-b.txt} {main/a.txt}]" || fmt.Sprint(page.CommonPrefixes) != "[{main/data/} {main/docs/}]" {
		t.Fatalf("list with delimiter: %+v", page)
	}
	var all struct{ Contents []struct{ Key string } }
	if err := json.Unmarshal([]byte(g.awsOK("s3api", "list-objects-v2", "--bucket", "data", "--prefix", "main/", "--page-size", "1")), &all); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(all.Contents) != "[{main/a-b.txt} {main/a.txt} {main/data/big.bin} {main/data/users.csv} {main/docs/read me+1.txt}]" {
		t.Fatalf("list in pages of 1: %+v", all.Contents)
	}
	page.Contents, page.CommonPrefixes = nil, nil
	if err := json.Unmarshal([]byte(g.awsOK("s3api", "list-objects-v2", "--bucket", "data", "--prefix", "", "--delimiter", "/", "--page-size", "1")), &page); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(page.CommonPrefixes) != "[{main/} {v1/}]" || len(page.Contents) != 0 {
		t.Fatalf("refs in pages of 1: %+v", page)
	}
	if err := json.Unmarshal([]byte(g.awsOK("s3api", "list-objects-v2", "--bucket", "data", "--prefix", "v1/data/", "--start-after", "v1/data/big.bin")), &all); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(all.Contents) != "[{v1/data/users.csv}]" {
		t.Fatalf("start-after: %+v", all.Contents)
	}

	// Ranged GETs equal the same slice of dx cat, for random ranges.
	big := f.cat("main", "data/big.bin")
	rng := rand.New(rand.NewPCG(7, 7))
	out := filepath.Join(t.TempDir(), "range")
	ranges := []string{"bytes=-100", fmt.Sprintf("bytes=%d-", len(big)-5000), "bytes=0-0"}
	for range 5 {
		a := rng.IntN(len(big))
		ranges = append(ranges, fmt.Sprintf("bytes=%d-%d", a, a+rng.IntN(300<<10)))
	}
	for _, rg := range ranges {
		g.awsOK("s3api", "get-object", "--bucket", "data", "--key", "main/data/big.bin", "--range", rg, out)
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var a, z int
		switch {
		case strings.HasPrefix(rg, "bytes=-"):
			fmt.Sscanf(rg, "bytes=-%d", &z)
			a, z = len(big)-z, len(big)
		case strings.HasSuffix(rg, "-"):
			fmt.Sscanf(rg, "bytes=%d-", &a)
			z = len(big)
		default:
			fmt.Sscanf(rg, "bytes=%d-%d", &a, &z)
			z = min(z+1, len(big))
		}
		if !bytes.Equal(got, []byte(big[a:z])) {
			t.Fatalf("range %s: %d bytes differ from dx cat's [%d:%d]", rg, len(got), a, z)
		}
	}

	// HEAD: the size, and an ETag that follows the content: equal for an
	// unchanged file in two versions, different for a changed one.
	head := func(key string) (h struct {
		ContentLength int64
		ETag          string
	}) {
		if err := json.Unmarshal([]byte(g.awsOK("s3api", "head-object", "--bucket", "data", "--key", key)), &h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	if h := head("main/data/big.bin"); h.ContentLength != int64(len(big)) || h.ETag != head("v1/data/big.bin").ETag {
		t.Fatalf("head of an unchanged file: %+v vs %+v", h, head("v1/data/big.bin"))
	}
	if head("main/a.txt").ETag == head("v1/a.txt").ETag {
		t.Fatal("a changed file kept its ETag")
	}

	// Errors: wrong secret, missing keys and refs, writes, other calls.
	for _, c := range []struct {
		name, secret, want string
		args               []string
	}{
		{"wrong secret", "wrong", "SignatureDoesNotMatch", []string{"s3", "ls", "s3://data/"}},
		{"missing file", serveSecret, "404", []string{"s3api", "head-object", "--bucket", "data", "--key", "main/nope.txt"}},
		{"missing ref", serveSecret, "NoSuchKey", []string{"s3api", "get-object", "--bucket", "data", "--key", "nope/a.txt", out}},
		{"missing bucket", serveSecret, "NoSuchBucket", []string{"s3", "ls", "s3://nope/"}},
		{"directory", serveSecret, "NoSuchKey", []string{"s3api", "get-object", "--bucket", "data", "--key", "main/data", out}},
		{"upload", serveSecret, "AccessDenied", []string{"s3", "cp", f.r.path("a.txt"), "s3://data/main/new.txt"}},
		{"delete", serveSecret, "AccessDenied", []string{"s3", "rm", "s3://data/main/a.txt"}},
		{"acl", serveSecret, "NotImplemented", []string{"s3api", "get-bucket-acl", "--bucket", "data"}},
		{"range past the end", serveSecret, "InvalidRange", []string{"s3api", "get-object", "--bucket", "data", "--key", "main/a.txt", "--range", "bytes=100-200", out}},
	} {
		_, errOut, code := g.aws(c.secret, c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, want an error with %q: %s", c.name, code, c.want, errOut)
		}
	}
}

func TestServeBoto3(t *testing.T) {
	requireTool(t, "python3")
	if out, err := exec.Command("python3", "-c", "import boto3").CombinedOutput(); err != nil {
		t.Fatalf("boto3 is required by the dx serve tests: %v: %s", err, out)
	}
	f := newServeFixture(t)
	g := startServe(t, f.r.dir, "--repo", "data="+f.r.dir)
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "testdata", "serve_boto3.py")
	dir := t.TempDir()
	const from, to = 1000000, 1200000
	cmd := exec.Command("python3", script, g.endpoint(), "data", "v1/data/big.bin", fmt.Sprint(from), fmt.Sprint(to), dir)
	cmd.Env = clientEnv(t, serveSecret)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("boto3 script: %v\n%s", err, out)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	big := []byte(f.cat("v1", "data/big.bin"))
	for _, name := range []string{"full.bin", "presigned.bin", "presigned_v4.bin"} {
		if !bytes.Equal(read(name), big) {
			t.Fatalf("boto3's %s: bytes other than dx cat's", name)
		}
	}
	if !bytes.Equal(read("range.bin"), big[from:to+1]) {
		t.Fatal("boto3 ranged get_object differs from dx cat's slice")
	}
	var res struct {
		ListKeys            []string `json:"list_keys"`
		ListPrefixes        []string `json:"list_prefixes"`
		Buckets             []string `json:"buckets"`
		ContentRange        string   `json:"content_range"`
		PresignedTampered   [2]any   `json:"presigned_tampered"`
		PresignedV4Tampered [2]any   `json:"presigned_v4_tampered"`
	}
	raw := read("results.json")
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	var codes map[string]any
	_ = json.Unmarshal(raw, &codes)
	if fmt.Sprint(res.ListKeys) != "[v1/a-b.txt v1/a.txt]" || fmt.Sprint(res.ListPrefixes) != "[v1/data/ v1/docs/]" || fmt.Sprint(res.Buckets) != "[data]" {
		t.Errorf("boto3 listing: %s", raw)
	}
	if res.ContentRange != fmt.Sprintf("bytes %d-%d/%d", from, to, len(big)) {
		t.Errorf("Content-Range %q", res.ContentRange)
	}
	for name, want := range map[string]string{
		"if_none_match": "[304 304]", "if_match_ok": "[ok 200]", "if_match_other": "[PreconditionFailed 412]",
		"missing_key": "[NoSuchKey 404]", "missing_ref": "[NoSuchKey 404]", "missing_bucket": "[NoSuchBucket 404]",
		"put": "[AccessDenied 403]", "delete": "[AccessDenied 403]", "multipart": "[AccessDenied 403]",
		"get_acl": "[NotImplemented 501]", "wrong_secret": "[SignatureDoesNotMatch 403]", "unknown_key": "[InvalidAccessKeyId 403]",
	} {
		if got := fmt.Sprint(codes[name]); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	for _, tampered := range [][2]any{res.PresignedTampered, res.PresignedV4Tampered} {
		if tampered[0] != 403.0 || !strings.Contains(tampered[1].(string), "<Code>SignatureDoesNotMatch</Code>") {
			t.Errorf("tampered presigned URL: %v", tampered)
		}
	}
}

// rawStatus sends one request line as written (no client cleans it) and
// returns the response's status code.
func rawStatus(t *testing.T, addr, target string) int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, addr)
	var code int
	if _, err := fmt.Fscanf(bufio.NewReader(c), "HTTP/1.1 %d", &code); err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	return code
}

func TestServeRefusals(t *testing.T) {
	f := newServeFixture(t)
	g := startServe(t, f.r.dir)
	bucket := filepath.Base(f.r.dir)
	for _, target := range []string{"/" + bucket + "/main/../v1/a.txt", "/" + bucket + "/main/a%00.txt", "/" + bucket + "/main%2Fa.txt", "/" + bucket + "/main/./a.txt"} {
		if code := rawStatus(t, g.addr, target); code != 400 {
			t.Errorf("GET %s: %d, want 400", target, code)
		}
	}
	// Unsigned requests are refused without --anonymous.
	if code := rawStatus(t, g.addr, "/"+bucket+"/main/a.txt"); code != 403 {
		t.Errorf("anonymous GET: %d, want 403", code)
	}
	anon := startServe(t, f.r.dir, "--anonymous")
	if code := rawStatus(t, anon.addr, "/"+bucket+"/main/a.txt"); code != 200 {
		t.Errorf("anonymous GET with --anonymous: %d, want 200", code)
	}
	// No anonymous access beyond loopback, and none unless asked for.
	res := runDxEnv(t, f.r.dir, nil, nil, "serve", "--anonymous", "--listen", "0.0.0.0:0")
	checkFailure(t, res, "not a loopback address", []string{"serve"})
	if res.code != 2 {
		t.Errorf("non-loopback --anonymous: exit %d, want 2", res.code)
	}
	res = runDxEnv(t, f.r.dir, nil, nil, "serve", "--listen", "127.0.0.1:0")
	checkFailure(t, res, "no credentials", []string{"serve"})
	if res.code != 2 {
		t.Errorf("no credentials: exit %d, want 2", res.code)
	}
}

// minioClient is a Go S3 SDK signing with the test's key pair.
func minioClient(t *testing.T, g *gateway) *minio.Client {
	t.Helper()
	c, err := minio.New(g.addr, &minio.Options{Creds: credentials.NewStaticV4(serveKey, serveSecret, ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestServeWhileWriting: 16 clients stream reads while dx commits,
// checks out and collects garbage. Every command succeeds (none waits
// past its lock wait), every read of main is all of one version, and a
// branch deleted and pruned meanwhile reads whole or fails, never mixed.
func TestServeWhileWriting(t *testing.T) {
	f := newServeFixture(t)
	r := f.r
	g := startServe(t, r.dir, "--repo", "data="+r.dir)
	c := minioClient(t, g)
	old := f.cat("main", "data/big.bin")
	updated := randomBytes(43, 6<<20)
	doomed := randomBytes(44, 6<<20)
	r.ok("branch", "doomed")
	r.ok("checkout", "doomed")
	writeBytes(t, r.path("data/big.bin"), doomed)
	r.ok("commit", "-m", "on a branch to delete")
	r.ok("checkout", "main")

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	reads := map[string]int{}
	var readErr error
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := "main/data/big.bin"
			if i%4 == 3 {
				key = "doomed/data/big.bin"
			}
			for ctx.Err() == nil {
				obj, err := c.GetObject(ctx, "data", key, minio.GetObjectOptions{})
				var b []byte
				if err == nil {
					b, err = io.ReadAll(obj)
				}
				mu.Lock()
				switch {
				case ctx.Err() != nil:
				case strings.HasPrefix(key, "doomed/") && err != nil:
					reads["doomed failed"]++ // deleted, or its chunks pruned mid-read
				case err != nil:
					readErr = fmt.Errorf("reader %d: %w", i, err)
				case string(b) == old:
					reads["old"]++
				case bytes.Equal(b, updated):
					reads["new"]++
				case bytes.Equal(b, doomed) && strings.HasPrefix(key, "doomed/"):
					reads["doomed"]++
				default:
					readErr = fmt.Errorf("reader %d read %d bytes of no version of %s", i, len(b), key)
				}
				mu.Unlock()
				if readErr != nil {
					return
				}
			}
		}()
	}
	writeBytes(t, r.path("data/big.bin"), updated)
	r.ok("commit", "-m", "three")
	obj, err := c.GetObject(ctx, "data", "main/data/big.bin", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(got, updated) {
		t.Fatalf("after the commit main reads %d bytes (%v), not the new version", len(got), err)
	}
	r.ok("checkout", "v1")
	r.ok("checkout", "main")
	r.ok("branch", "-D", "doomed")
	r.ok("gc", "--prune")
	if _, err := c.StatObject(ctx, "data", "doomed/data/big.bin", minio.StatObjectOptions{}); err == nil {
		t.Fatal("a deleted branch still reads")
	}
	cancel()
	wg.Wait()
	if readErr != nil {
		t.Fatal(readErr)
	}
	t.Logf("reads: %v", reads)
	if reads["old"]+reads["new"] == 0 {
		t.Fatalf("no read of main finished: %v", reads)
	}
	if got := f.cat("v1", "data/big.bin"); got != old {
		t.Fatal("v1 changed")
	}
	r.ok("fsck")
}

func TestServeRangedReadDecodesOnlyItsChunks(t *testing.T) {
	requireTool(t, "aws")
	f := newServeFixture(t)
	big := f.cat("main", "data/big.bin")
	out := filepath.Join(t.TempDir(), "range")
	decoded := func(rg string) int64 {
		g := startServe(t, f.r.dir, "--repo", "data="+f.r.dir, "--stats")
		args := []string{"s3api", "get-object", "--bucket", "data", "--key", "main/data/big.bin", out}
		if rg != "" {
			args = append(args[:len(args)-1], "--range", rg, out)
		}
		g.awsOK(args...)
		return g.stats()["chunks_decoded"]
	}
	whole := decoded("")
	// Binary files are cut into chunks of 16 to 256 KiB.
	if whole < int64(len(big)>>18) {
		t.Fatalf("the whole file decoded %d chunks", whole)
	}
	if n := decoded(fmt.Sprintf("bytes=%d-%d", len(big)/2, len(big)/2)); n != 1 {
		t.Errorf("a 1-byte range decoded %d chunks, want 1", n)
	}
	const mib = 1 << 20
	n := decoded(fmt.Sprintf("bytes=%d-%d", len(big)/2, len(big)/2+mib-1))
	t.Logf("chunks decoded: whole file %d, 1-byte range 1, 1 MiB range %d", whole, n)
	if n < mib>>18 || n > mib>>14+1 {
		t.Errorf("a 1 MiB range decoded %d chunks, want between %d and %d (of %d)", n, mib>>18, mib>>14+1, whole)
	}
}

// getJSON GETs a data API URL and decodes its JSON answer.
func getJSON(t *testing.T, u string, v any) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %d %q: %v", u, resp.StatusCode, b, err)
	}
	return resp.StatusCode
}

func TestServeDataAPI(t *testing.T) {
	r := newRepo(t)
	table, rows := genCSV(17, 60000)
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	r.write("data/users.csv", table)
	r.write("data/notes.txt", "not a table\n")
	r.ok("commit", "-m", "one")
	r.write("data/users.csv", table+"60000,name60000,1.00,new\n")
	r.ok("commit", "-m", "two")
	g := startServe(t, r.dir, "--repo", "data="+r.dir, "--anonymous", "--stats")
	api := g.endpoint() + "/v1/"

	// A row by key is the row dx cat holds, read from the chunk whose key
	// range holds it (and the first, for the header).
	rng := rand.New(rand.NewPCG(4, 4))
	lookups, chunks := 0, 0
	for range 20 {
		id := fmt.Sprint(rng.IntN(60000))
		var ans struct {
			Row        map[string]string
			Chunks     int `json:"chunks"`
			ChunksRead int `json:"chunks_read"`
		}
		if code := getJSON(t, api+"rows/main/data/users.csv?key="+id, &ans); code != 200 {
			t.Fatalf("row %s: %d", id, code)
		}
		lookups++
		want := rows[id]
		if got := []string{ans.Row["id"], ans.Row["name"], ans.Row["amount"], ans.Row["note"]}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("row %s: %q, want %q", id, got, want)
		}
		chunks = ans.Chunks
		if ans.Chunks < 10 || ans.ChunksRead > 2 {
			t.Fatalf("row %s read %d of %d chunks", id, ans.ChunksRead, ans.Chunks)
		}
	}
	var row struct{ Row map[string]string }
	if getJSON(t, api+"rows/main/data/users.csv?key=60000", &row); row.Row["note"] != "new" {
		t.Fatalf("the row added on main: %v", row)
	}
	var apiErr struct{ Error struct{ Code string } }
	for _, c := range []struct {
		url, code string
		status    int
	}{
		{"rows/main~1/data/users.csv?key=60000", "NotFound", 404},
		{"rows/main/data/notes.txt?key=1", "NotKeyed", 400},
		{"rows/nope/data/users.csv?key=1", "NotFound", 404},
		{"rows/main/data/users.csv", "InvalidArgument", 400},
		{"tree/main/nope", "NotFound", 404},
	} {
		apiErr.Error.Code = ""
		if status := getJSON(t, api+c.url, &apiErr); status != c.status || apiErr.Error.Code != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.url, status, apiErr.Error.Code, c.status, c.code)
		}
	}

	// Refs, the log and the tree say what dx branch, dx log and the
	// files committed say.
	var refs struct{ Branches []struct{ Name, ID string } }
	getJSON(t, api+"refs", &refs)
	if len(refs.Branches) != 1 || refs.Branches[0].Name != "main" || refs.Branches[0].ID != headID(t, r) {
		t.Errorf("refs: %+v", refs)
	}
	var log, want []struct{ ID string }
	getJSON(t, api+"log/main?n=2", &log)
	if err := json.Unmarshal([]byte(r.ok("log", "--json", "-n", "2")), &want); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(log) != fmt.Sprint(want) || len(log) != 2 {
		t.Errorf("log: %v, dx log: %v", log, want)
	}
	var tree struct {
		Entries []struct {
			Path string
			Type string
			Size int
		}
	}
	getJSON(t, api+"tree/main/data", &tree)
	if fmt.Sprint(tree.Entries) != fmt.Sprintf("[{data/notes.txt file 12} {data/users.csv file %d}]", len(table)+len("60000,name60000,1.00,new\n")) {
		t.Errorf("tree: %+v", tree.Entries)
	}
	// The row diff is dx diff --rows --format jsonl's.
	resp, err := http.Get(api + "diff/main~1/main/data")
	if err != nil {
		t.Fatal(err)
	}
	diff, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("diff: %v %s", err, resp.Header.Get("Content-Type"))
	}
	if want := r.ok("diff", "--rows", "--format", "jsonl", "main~1", "main", "--", "data"); string(diff) != want || want == "" {
		t.Fatalf("diff: %q, dx diff --rows: %q", diff, want)
	}

	// Models and lineage are dx model's and dx lineage's.
	art := filepath.Join(t.TempDir(), "model.bin")
	writeBytes(t, art, randomBytes(5, 1000))
	r.ok("model", "register", "churn", "--artifact", art, "--data", "main~1:data/users.csv")
	var show, got struct {
		ID      string
		Version int
	}
	if err := json.Unmarshal([]byte(r.ok("model", "show", "churn@1", "--json")), &show); err != nil {
		t.Fatal(err)
	}
	if getJSON(t, api+"models/churn@1", &got); got != show {
		t.Errorf("models/churn@1: %+v, dx model show: %+v", got, show)
	}
	var list []struct{ ID string }
	for _, u := range []string{"models", "models/churn", "lineage/main~1/data/users.csv", "lineage/main~1"} {
		list = nil
		if getJSON(t, api+u, &list); len(list) != 1 || list[0].ID != show.ID {
			t.Errorf("%s: %+v, want churn@1 (%s)", u, list, show.ID)
		}
	}
	for _, u := range []string{"lineage/main~1/data/notes.txt", "lineage/main"} {
		if getJSON(t, api+u, &list); len(list) != 0 {
			t.Errorf("%s (not in the model's data): %+v", u, list)
		}
	}
	var lineage struct{ Data []struct{ Commit string } }
	if getJSON(t, api+"models/churn@1/lineage", &lineage); len(lineage.Data) != 1 || lineage.Data[0].Commit == "" {
		t.Errorf("models/churn@1/lineage: %+v", lineage)
	}
	if status := getJSON(t, api+"models/nope@1", &apiErr); status != 404 {
		t.Errorf("an unknown model: %d", status)
	}

	// The server decoded the first chunk once (its header), one chunk a
	// lookup at most, and the last chunks of both versions for the row
	// added on main: far fewer than the table has.
	n := g.stats()["chunks_decoded"]
	t.Logf("%d lookups decoded %d of the table's %d chunks", lookups, n, chunks)
	if n > int64(1+lookups+2) || n >= int64(chunks) {
		t.Errorf("%d lookups decoded %d chunks of %d", lookups, n, chunks)
	}
}

// rclone runs rclone against g's S3 endpoint with the test's key pair.
func (g *gateway) rclone(args ...string) result {
	g.t.Helper()
	cmd := exec.Command("rclone", args...)
	cmd.Env = append(clientEnv(g.t, serveSecret), "RCLONE_CONFIG="+filepath.Join(g.t.TempDir(), "rclone.conf"),
		"RCLONE_S3_PROVIDER=Other", "RCLONE_S3_ENDPOINT="+g.endpoint(), "RCLONE_S3_REGION=us-east-1",
		"RCLONE_S3_ACCESS_KEY_ID="+serveKey, "RCLONE_S3_SECRET_ACCESS_KEY="+serveSecret, "RCLONE_S3_FORCE_PATH_STYLE=true")
	return runProcess(g.t, cmd)
}

func TestServeRclone(t *testing.T) {
	requireTool(t, "rclone")
	f := newServeFixture(t)
	g := startServe(t, f.r.dir, "--repo", "data="+f.r.dir)
	for _, ref := range []string{"main", "v1", f.first} {
		for p := range f.files {
			res := g.rclone("cat", ":s3:data/"+ref+"/"+p)
			if res.code != 0 || res.stdout != f.cat(ref, p) {
				t.Fatalf("rclone cat %s/%s: exit %d, %d bytes (dx cat: %d): %s", ref, p, res.code, len(res.stdout), len(f.cat(ref, p)), res.stderr)
			}
		}
	}
	big := f.cat("main", "data/big.bin")
	if res := g.rclone("cat", "--offset", "3000000", "--count", "70000", ":s3:data/main/data/big.bin"); res.stdout != big[3000000:3070000] {
		t.Fatalf("rclone cat of a range: exit %d, %d bytes: %s", res.code, len(res.stdout), res.stderr)
	}
	res := g.rclone("lsf", "-R", "--files-only", ":s3:data/main/")
	var want []string
	for p := range f.files {
		want = append(want, p)
	}
	sort.Strings(want)
	if got := strings.Fields(strings.ReplaceAll(res.stdout, " ", "_")); res.code != 0 || strings.Join(got, "\n") != strings.ReplaceAll(strings.Join(want, "\n"), " ", "_") {
		t.Fatalf("rclone lsf -R: exit %d %q: %s", res.code, res.stdout, res.stderr)
	}
	if res := g.rclone("copyto", f.r.path("a.txt"), ":s3:data/main/new.txt"); res.code == 0 || !strings.Contains(res.stderr, "AccessDenied") {
		t.Fatalf("rclone copyto: exit %d: %s", res.code, res.stderr)
	}
}

// s3jsDir is the AWS SDK for JavaScript's package, installed by npm ci
// from its lock file when missing.
func s3jsDir(t *testing.T) string {
	t.Helper()
	requireTool(t, "node")
	requireTool(t, "npm")
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "testdata", "s3js")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@aws-sdk", "client-s3", "package.json")); err == nil {
		return dir
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s (the AWS SDK for JavaScript): %v\n%s", dir, err, out)
	}
	return dir
}

func TestServeJavaScriptSDK(t *testing.T) {
	dir := s3jsDir(t)
	f := newServeFixture(t)
	g := startServe(t, f.r.dir, "--repo", "data="+f.r.dir)
	out := t.TempDir()
	const from, to = 2000000, 2300000
	for _, ref := range []string{"main", "v1", f.first} {
		cmd := exec.Command("node", filepath.Join(dir, "read.mjs"), g.endpoint(), "data", ref+"/data/big.bin", fmt.Sprint(from), fmt.Sprint(to), out)
		cmd.Env = append(clientEnv(t, serveSecret), "NODE_NO_WARNINGS=1")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("node read.mjs %s: %v\n%s", ref, err, b)
		}
		big := f.cat(ref, "data/big.bin")
		full, err := os.ReadFile(filepath.Join(out, "full.bin"))
		if err != nil {
			t.Fatal(err)
		}
		part, err := os.ReadFile(filepath.Join(out, "range.bin"))
		if err != nil {
			t.Fatal(err)
		}
		if string(full) != big || string(part) != big[from:to+1] {
			t.Fatalf("%s: the JavaScript SDK read %d and %d bytes other than dx cat's", ref, len(full), len(part))
		}
		var res map[string]any
		raw, err := os.ReadFile(filepath.Join(out, "results.json"))
		if err == nil {
			err = json.Unmarshal(raw, &res)
		}
		if err != nil {
			t.Fatal(err)
		}
		for k, want := range map[string]string{
			"list_keys": fmt.Sprintf("[%s/a-b.txt %s/a.txt]", ref, ref), "list_prefixes": fmt.Sprintf("[%s/data/ %s/docs/]", ref, ref),
			"buckets": "[data]", "content_range": fmt.Sprintf("bytes %d-%d/%d", from, to, len(big)),
			"head_length": fmt.Sprint(float64(len(big))), "if_none_match": "[Unknown 304]", "missing_key": "[NoSuchKey 404]", "put": "[AccessDenied 403]",
		} {
			if got := fmt.Sprint(res[k]); got != want {
				t.Errorf("%s: %s: %s, want %s", ref, k, got, want)
			}
		}
	}
}

// pandasPython is a python3 on PATH that imports pandas (Debian's
// python3-pandas is for Debian's python3, which another may come before).
func pandasPython(t *testing.T) string {
	t.Helper()
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		py := filepath.Join(d, "python3")
		if err := exec.Command(py, "-c", "import pandas").Run(); err == nil {
			return py
		}
	}
	t.Fatal("no python3 on PATH imports pandas: install python3-pandas (scripts/tools.sh does)")
	return ""
}

func TestServePandas(t *testing.T) {
	py := pandasPython(t)
	r := newRepo(t)
	table, rows := genCSV(23, 5000)
	r.write("data/users.csv", table)
	r.ok("commit", "-m", "one")
	r.ok("tag", "v1")
	r.write("data/users.csv", "id,name,amount,note\n1,changed,0,x\n")
	r.ok("commit", "-m", "two")
	g := startServe(t, r.dir, "--repo", "data="+r.dir)
	u, err := minioClient(t, g).PresignedGetObject(context.Background(), "data", "v1/data/users.csv", time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, file, _, _ := runtime.Caller(0)
	out := filepath.Join(t.TempDir(), "df.json")
	cmd := exec.Command(py, filepath.Join(filepath.Dir(file), "testdata", "serve_pandas.py"), u.String(), out)
	cmd.Env = clientEnv(t, serveSecret)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pandas.read_csv(%s): %v\n%s", u, err, b)
	}
	var df struct {
		Columns []string
		Rows    map[string][]string
	}
	b, err := os.ReadFile(out)
	if err == nil {
		err = json.Unmarshal(b, &df)
	}
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(df.Columns) != "[id name amount note]" || len(df.Rows) != len(rows) {
		t.Fatalf("pandas read columns %v and %d rows, want %d", df.Columns, len(df.Rows), len(rows))
	}
	for id, want := range rows {
		if fmt.Sprint(df.Rows[id]) != fmt.Sprint(want) {
			t.Fatalf("row %s: pandas read %q, want %q", id, df.Rows[id], want)
		}
	}
}

// TestServeDataAPISigned: without --anonymous the data API wants a
// signature too, and a presigned URL of its path (and query) gives one.
func TestServeDataAPISigned(t *testing.T) {
	r := newRepo(t)
	table, rows := genCSV(29, 2000)
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	r.write("data/users.csv", table)
	r.ok("commit", "-m", "one")
	g := startServe(t, r.dir, "--repo", "data="+r.dir)
	var apiErr struct{ Error struct{ Code string } }
	if status := getJSON(t, g.endpoint()+"/v1/rows/main/data/users.csv?key=42", &apiErr); status != 403 || apiErr.Error.Code != "AccessDenied" {
		t.Fatalf("unsigned: %d %+v", status, apiErr)
	}
	// Presigned by minio-go's SigV4 signer, as any S3 URL is.
	req, err := http.NewRequest(http.MethodGet, g.endpoint()+"/v1/rows/main/data/users.csv?key=42", nil)
	if err != nil {
		t.Fatal(err)
	}
	u := signer.PreSignV4(*req, serveKey, serveSecret, "", "us-east-1", 3600).URL
	var ans struct{ Row map[string]string }
	if status := getJSON(t, u.String(), &ans); status != 200 || ans.Row["name"] != rows["42"][1] {
		t.Fatalf("presigned: %d %+v, want %q", status, ans, rows["42"])
	}
	tampered := strings.Replace(u.String(), "key=42", "key=43", 1)
	if status := getJSON(t, tampered, &apiErr); status != 403 || apiErr.Error.Code != "SignatureDoesNotMatch" {
		t.Fatalf("presigned URL with another key: %d %+v", status, apiErr)
	}
}
