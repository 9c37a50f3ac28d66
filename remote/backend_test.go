package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/dxdata/dx/internal/s3test"
)

// backendCase is one Backend under test, with a way to drop an object just
// outside its root (which List must not show).
type backendCase struct {
	name    string
	open    func(t *testing.T) Backend
	outside func(t *testing.T, key string, data []byte)
}

func fileCase() backendCase {
	var dir string
	return backendCase{
		name: "file",
		open: func(t *testing.T) Backend {
			dir = t.TempDir()
			be, err := Open(context.Background(), Config{URL: filepath.Join(dir, "remote")})
			if err != nil {
				t.Fatal(err)
			}
			return be
		},
		outside: func(t *testing.T, key string, data []byte) {
			p := filepath.Join(dir, "remote-outside", filepath.FromSlash(key))
			if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o666); err != nil {
				t.Fatal(err)
			}
		},
	}
}

// s3Env points the credential chain at srv's root user, and nothing else.
func s3Env(t *testing.T, srv *s3test.Server) {
	t.Helper()
	isolateAWSEnv(t)
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// isolateAWSEnv clears every variable the S3 backend reads.
func isolateAWSEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY",
		"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_S3", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "no-credentials"))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "no-config"))
}

func minioClient(t *testing.T, srv *s3test.Server) *minio.Client {
	t.Helper()
	c, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func s3Case() backendCase {
	var srv *s3test.Server
	return backendCase{
		name: "s3",
		open: func(t *testing.T) Backend {
			srv = s3test.Start(t)
			srv.MakeBucket(t, "dx-conformance")
			s3Env(t, srv)
			be, err := Open(context.Background(), Config{
				URL: "s3://dx-conformance/team/ds", Endpoint: "http://" + srv.Endpoint, PathStyle: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := Check(context.Background(), be); err != nil {
				t.Fatalf("check: %v", err)
			}
			return be
		},
		outside: func(t *testing.T, key string, data []byte) {
			_, err := minioClient(t, srv).PutObject(context.Background(), "dx-conformance", key,
				bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
		},
	}
}

// TestBackend is the conformance suite every Backend passes: the file one
// in a temporary directory, the S3 one against a real MinIO under a
// prefix.
func TestBackend(t *testing.T) {
	for _, bc := range []backendCase{fileCase(), s3Case()} {
		t.Run(bc.name, func(t *testing.T) {
			be := bc.open(t)
			ctx := context.Background()
			for _, tc := range []struct {
				name string
				fn   func(t *testing.T, ctx context.Context, be Backend, bc backendCase)
			}{
				{"Missing", testMissing},
				{"PutGet", testPutGet},
				{"PutShort", testPutShort},
				{"PutReaderFails", testPutReaderFails},
				{"PutLarge", testPutLarge},
				{"List", testList},
				{"Swap", testSwap},
				{"SwapRace", testSwapRace},
				{"Delete", testDelete},
				{"BadKeys", testBadKeys},
				{"ListAfter", testListAfter},
				{"ReadRefIfChanged", testReadRefIfChanged},
			} {
				t.Run(tc.name, func(t *testing.T) { tc.fn(t, ctx, be, bc) })
			}
		})
	}
}

func randBytes(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// onlyReader hides every method but Read (no Seek, no ReadAt), as the
// push code's counting reader does.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func put(t *testing.T, ctx context.Context, be Backend, key string, data []byte) {
	t.Helper()
	if err := be.Put(ctx, key, onlyReader{bytes.NewReader(data)}, int64(len(data))); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func readRange(ctx context.Context, be Backend, key string, off, n int64) ([]byte, error) {
	rc, err := be.GetRange(ctx, key, off, n)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func testMissing(t *testing.T, ctx context.Context, be Backend, _ backendCase) {
	if _, _, err := be.Get(ctx, "refs/heads/nope", 1<<20); !errors.Is(err, ErrNotExist) {
		t.Errorf("Get of a missing key: %v, want ErrNotExist", err)
	}
	if _, err := be.GetRange(ctx, "packs/nope.pack", 0, 10); !errors.Is(err, ErrNotExist) {
		t.Errorf("GetRange of a missing key: %v, want ErrNotExist", err)
	}
	if objs, err := be.List(ctx, "nothing/here/"); err != nil || len(objs) != 0 {
		t.Errorf("List of an empty prefix: %v %v", objs, err)
	}
}

func testPutGet(t *testing.T, ctx context.Context, be Backend, _ backendCase) {
	data := randBytes(1, 1000)
	put(t, ctx, be, "packs/small.pack", data)
	got, tag, err := be.Get(ctx, "packs/small.pack", 1<<20)
	if err != nil || !bytes.Equal(got, data) || tag == "" {
		t.Fatalf("Get: %d bytes, tag %q, %v", len(got), tag, err)
	}
	for _, r := range []struct{ off, n int64 }{{0, 1000}, {0, 1}, {999, 1}, {500, 250}, {10, 0}, {1000, 0}} {
		got, err := readRange(ctx, be, "packs/small.pack", r.off, r.n)
		if err != nil || !bytes.Equal(got, data[r.off:r.off+r.n]) {
			t.Errorf("GetRange(%d, %d): %d bytes, %v", r.off, r.n, len(got), err)
		}
	}
	for _, r := range []struct{ off, n int64 }{{990, 20}, {1000, 1}, {5000, 10}} {
		if _, err := readRange(ctx, be, "packs/small.pack", r.off, r.n); err == nil || errors.Is(err, ErrNotExist) {
			t.Errorf("GetRange(%d, %d) past the end: %v, want a range error", r.off, r.n, err)
		}
	}
	// An empty object.
	put(t, ctx, be, "events/empty.json", nil)
	if got, tag, err := be.Get(ctx, "events/empty.json", 1<<20); err != nil || len(got) != 0 || tag == "" {
		t.Errorf("Get of an empty object: %q %q %v", got, tag, err)
	}
	// The limit: exactly reached, then passed.
	if got, _, err := be.Get(ctx, "packs/small.pack", 1000); err != nil || !bytes.Equal(got, data) {
		t.Errorf("Get with a limit of its size: %d bytes, %v", len(got), err)
	}
	if got, _, err := be.Get(ctx, "packs/small.pack", 999); !errors.Is(err, ErrTooLarge) || got != nil {
		t.Errorf("Get past its limit: %d bytes, %v, want ErrTooLarge", len(got), err)
	}
}

func testPutShort(t *testing.T, ctx context.Context, be Backend, _ backendCase) {
	for _, size := range []int64{100, 20 << 20} {
		data := randBytes(2, int(size)-10)
		err := be.Put(ctx, "packs/short.pack", onlyReader{bytes.NewReader(data)}, size)
		if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("Put of %d bytes from a %d-byte reader: %v, want ErrUnexpectedEOF", size, len(data), err)
		}
		if _, _, err := be.Get(ctx, "packs/short.pack", 1<<20); !errors.Is(err, ErrNotExist) {
			t.Errorf("after a failed Put: %v, want ErrNotExist", err)
		}
	}
}

// testPutReaderFails: a stream that fails part way (a copied pack found
// damaged) fails the Put, which leaves nothing: replication relies on it.
func testPutReaderFails(t *testing.T, ctx context.Context, be Backend, _ backendCase) {
	bad := errors.New("damaged on the way")
	// In memory, one streamed PUT, and multipart (over s3StreamSingleMax).
	for _, size := range []int64{100, 12 << 20, 20 << 20, s3StreamSingleMax + 1<<20} {
		r := io.MultiReader(bytes.NewReader(randBytes(4, int(size)-1)), iotest.ErrReader(bad))
		if err := be.Put(ctx, "packs/failed.pack", onlyReader{r}, size); !errors.Is(err, bad) {
			t.Errorf("Put of %d bytes whose reader fails at the last byte: %v, want its error", size, err)
		}
		if _, _, err := be.Get(ctx, "packs/failed.pack", 1<<20); !errors.Is(err, ErrNotExist) {
			t.Errorf("after a failed Put of %d bytes: %v, want ErrNotExist", size, err)
		}
	}
}

func testPutLarge(t *testing.T, ctx context.Context, be Backend, _ backendCase) {
	data := randBytes(3, 40<<20) // multipart on S3
	start := time.Now()
	put(t, ctx, be, "packs/large.pack", data)
	t.Logf("40 MiB put in %v", time.Since(start).Round(time.Millisecond))
	got, err := readRange(ctx, be, "packs/large.pack", 0, int64(len(data)))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d of %d bytes (equal %v): %v", len(got), len(data), bytes.Equal(got, data), err)
	}
	// Across the first part boundary.
	off, n := int64(16<<20-100), int64(200)
	if got, err := readRange(ctx, be, "packs/large.pack", off, n); err != nil || !bytes.Equal(got, data[off:off+n]) {
		t.Errorf("GetRange across a part boundary: %v", err)
	}
	objs, err := be.List(ctx, "packs/large")
	if err != nil || len(objs) != 1 || objs[0].Size != int64(len(data)) {
		t.Errorf("List: %+v %v", objs, err)
	}
}

func testList(t *testing.T, ctx context.Context, be Backend, bc backendCase) {
	keys := []string{"l/b/c", "l/a", "l/bz", "l/b-d", "lz", "m/x"}
	for i, k := range keys {
		put(t, ctx, be, k, bytes.Repeat([]byte{'x'}, i+1))
	}
	bc.outside(t, "team/dsx/l/a", []byte("outside"))
	bc.outside(t, "outside/l/a", []byte("outside"))
	size := func(k string) int64 { return int64(slices.Index(keys, k) + 1) }
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"l/", []string{"l/a", "l/b-d", "l/b/c", "l/bz"}},
		{"l/b", []string{"l/b-d", "l/b/c", "l/bz"}},
		{"l/b/", []string{"l/b/c"}},
		{"l", []string{"l/a", "l/b-d", "l/b/c", "l/bz", "lz"}},
		{"m/x", []string{"m/x"}},
		{"l/q", nil},
		{"nope/", nil},
	} {
		objs, err := be.List(ctx, tc.prefix)
		if err != nil {
			t.Fatalf("List(%q): %v", tc.prefix, err)
		}
		var got []string
		for _, o := range objs {
			got = append(got, o.Key)
			if o.Size != size(o.Key) {
				t.Errorf("List(%q): %s has size %d, want %d", tc.prefix, o.Key, o.Size, size(o.Key))
			}
			// The collector's grace is measured by these times.
			if d := time.Since(o.Modified); d < -time.Hour || d > time.Hour {
				t.Errorf("List(%q): %s modified at %v, not about now", tc.prefix, o.Key, o.Modified)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("List(%q) = %q, want %q", tc.prefix, got, tc.want)
		}
	}
	all, err := be.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSortedFunc(all, func(x, y ObjectInfo) int { return strings.Compare(x.Key, y.Key) }) {
		t.Errorf("List(\"\") is not sorted: %v", all)
	}
	for _, o := range all {
		if strings.Contains(o.Key, "outside") || strings.HasPrefix(o.Key, "team/") {
			t.Errorf("List(\"\") shows %q, outside the remote's root", o.Key)
		}
	}
}

func testSwap(t *testing.T, ctx context.Context, be Backend, _ backendCase) {
	const key = "refs/heads/main"
	tag1, err := be.Swap(ctx, key, "", []byte("v1\n"))
	if err != nil || tag1 == "" {
		t.Fatalf("create: %q %v", tag1, err)
	}
	if _, err := be.Swap(ctx, key, "", []byte("v1 again\n")); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("second create: %v, want ErrPrecondition", err)
	}
	if b, tag, err := be.Get(ctx, key, 1<<20); err != nil || string(b) != "v1\n" || tag != tag1 {
		t.Fatalf("Get after create: %q %q %v (created with tag %q)", b, tag, err, tag1)
	}
	tag2, err := be.Swap(ctx, key, tag1, []byte("v2\n"))
	if err != nil || tag2 == "" || tag2 == tag1 {
		t.Fatalf("swap with the current tag: %q %v", tag2, err)
	}
	if _, err := be.Swap(ctx, key, tag1, []byte("v3\n")); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("swap with a stale tag: %v, want ErrPrecondition", err)
	}
	if b, tag, err := be.Get(ctx, key, 1<<20); err != nil || string(b) != "v2\n" || tag != tag2 {
		t.Fatalf("Get after swaps: %q %q %v", b, tag, err)
	}
	// The tag in a listing, where a backend gives one, is the same.
	objs, err := be.List(ctx, key)
	if err != nil || len(objs) != 1 || objs[0].Tag != "" && objs[0].Tag != tag2 {
		t.Errorf("List(%q): %+v %v, want tag %q or none", key, objs, err, tag2)
	}
	// A swap expecting an object that was deleted loses.
	if err := be.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := be.Swap(ctx, key, tag2, []byte("v4\n")); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("swap of a deleted object: %v, want ErrPrecondition", err)
	}
}

func testSwapRace(t *testing.T, ctx context.Context, be Backend, _ backendCase) {
	for _, tc := range []struct {
		name   string
		create bool
	}{{"create", true}, {"update", false}} {
		t.Run(tc.name, func(t *testing.T) {
			key := "refs/heads/race-" + tc.name
			old := ""
			if !tc.create {
				var err error
				if old, err = be.Swap(ctx, key, "", []byte("base\n")); err != nil {
					t.Fatal(err)
				}
			}
			const n = 8
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, errs[i] = be.Swap(ctx, key, old, fmt.Appendf(nil, "writer %d\n", i))
				}()
			}
			close(start)
			wg.Wait()
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil && winner >= 0:
					t.Errorf("writers %d and %d both won", winner, i)
				case err == nil:
					winner = i
				case !errors.Is(err, ErrPrecondition):
					t.Errorf("writer %d: %v, want ErrPrecondition", i, err)
				}
			}
			if winner < 0 {
				t.Fatal("no writer won")
			}
			if b, _, err := be.Get(ctx, key, 1<<20); err != nil || string(b) != fmt.Sprintf("writer %d\n", winner) {
				t.Errorf("after the race: %q %v, want writer %d's value", b, err, winner)
			}
		})
	}
}

func testDelete(t *testing.T, ctx context.Context, be Backend, _ backendCase) {
	put(t, ctx, be, "events/del.json", []byte("{}"))
	if err := be.Delete(ctx, "events/del.json"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := be.Get(ctx, "events/del.json", 1<<20); !errors.Is(err, ErrNotExist) {
		t.Errorf("Get after Delete: %v, want ErrNotExist", err)
	}
	if err := be.Delete(ctx, "events/del.json"); err != nil {
		t.Errorf("Delete of a missing object: %v", err)
	}
}

func testBadKeys(t *testing.T, ctx context.Context, be Backend, _ backendCase) {
	for _, key := range []string{"", "/abs", "a/../b", "a//b", "a/", "./a"} {
		if _, _, err := be.Get(ctx, key, 1<<20); err == nil || errors.Is(err, ErrNotExist) {
			t.Errorf("Get(%q): %v, want an invalid-key error", key, err)
		}
		if err := be.Put(ctx, key, strings.NewReader("x"), 1); err == nil {
			t.Errorf("Put(%q) succeeded", key)
		}
	}
	if _, err := be.List(ctx, "../"); err == nil {
		t.Error(`List("../") succeeded`)
	}
}

// TestFileBackend covers what only a directory remote has: a root created
// on demand, lock files, temporary files.
func TestFileBackend(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	root := filepath.Join(dir, "a", "remote")
	be, err := Open(ctx, Config{URL: "file://" + root})
	if err != nil {
		t.Fatal(err)
	}
	if be.String() != "file://"+root {
		t.Errorf("String() = %q", be.String())
	}

	t.Run("MissingRoot", func(t *testing.T) {
		if err := Check(ctx, be); err != nil {
			t.Errorf("Check of a missing root: %v", err)
		}
		if _, _, err := be.Get(ctx, "FORMAT", 1<<20); !errors.Is(err, ErrNotExist) {
			t.Errorf("Get: %v, want ErrNotExist", err)
		}
		if objs, err := be.List(ctx, ""); err != nil || len(objs) != 0 {
			t.Errorf("List: %v %v", objs, err)
		}
		if _, err := os.Stat(root); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("reads created the root: %v", err)
		}
		if _, err := be.Swap(ctx, "refs/heads/main", "", []byte("x\n")); err != nil {
			t.Fatalf("first Swap: %v", err)
		}
		if fi, err := os.Stat(filepath.Join(root, "refs", "heads")); err != nil || !fi.IsDir() {
			t.Errorf("Swap did not create the directories: %v", err)
		}
	})

	t.Run("HiddenFiles", func(t *testing.T) {
		for _, name := range []string{"refs/heads/.main.tmp-123", "refs/heads/x.lock"} {
			if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(name)), []byte("junk"), 0o666); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(filepath.Join(root, filepath.FromSlash(name)))
		}
		objs, err := be.List(ctx, "refs/")
		if err != nil || len(objs) != 1 || objs[0].Key != "refs/heads/main" {
			t.Errorf("List shows temporary or lock files: %+v %v", objs, err)
		}
		if err := be.Put(ctx, "refs/heads/y.lock", strings.NewReader("x"), 1); err == nil {
			t.Error("Put of a .lock key succeeded")
		}
	})

	t.Run("StaleLock", func(t *testing.T) {
		fb := be.(*fileBackend)
		defer func(d time.Duration) { fb.lockWait = d }(fb.lockWait)
		fb.lockWait = 200 * time.Millisecond
		lock := filepath.Join(root, "refs", "heads", "main.lock")
		// A writer killed while it held the lock left its file: the
		// next one takes it.
		if err := os.WriteFile(lock, []byte("dx pid 1 on gone\n"), 0o666); err != nil {
			t.Fatal(err)
		}
		_, tag, _ := be.Get(ctx, "refs/heads/main", 1<<20)
		tag, err := be.Swap(ctx, "refs/heads/main", tag, []byte("y\n"))
		if err != nil {
			t.Fatalf("Swap with a stale lock file: %v", err)
		}
		if _, err := os.Stat(lock); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Swap left its lock file: %v", err)
		}
		// A live holder makes it wait, then fail naming the lock.
		f, err := os.OpenFile(lock, os.O_RDWR|os.O_CREATE, 0o666)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := holdLock(f); err != nil {
			t.Fatal(err)
		}
		if _, err := be.Swap(ctx, "refs/heads/main", tag, []byte("z\n")); err == nil || !strings.Contains(err.Error(), lock) {
			t.Errorf("Swap while another holds the lock: %v", err)
		}
	})

	t.Run("RootNotADirectory", func(t *testing.T) {
		f := filepath.Join(dir, "file")
		if err := os.WriteFile(f, []byte("x"), 0o666); err != nil {
			t.Fatal(err)
		}
		be, err := Open(ctx, Config{URL: f})
		if err != nil {
			t.Fatal(err)
		}
		for name, err := range map[string]error{
			"Check": Check(ctx, be),
			"Put":   be.Put(ctx, "k", strings.NewReader("x"), 1),
			"Get":   func() error { _, _, err := be.Get(ctx, "k", 1<<20); return err }(),
			"List":  func() error { _, err := be.List(ctx, ""); return err }(),
		} {
			if err == nil || !strings.Contains(err.Error(), "is not a directory") {
				t.Errorf("%s: %v, want \"is not a directory\"", name, err)
			}
		}
	})
}

// closedPort returns a port on 127.0.0.1 that nothing listens on: port 1
// (tcpmux), privileged and served by nothing, as the end-to-end tests use.
// A port found free by listening on :0 stays free only until another
// process (a MinIO starting for a test run beside this one) binds it.
func closedPort(t *testing.T) int {
	t.Helper()
	if c, err := net.Dial("tcp", "127.0.0.1:1"); err == nil {
		c.Close()
		t.Fatal("something listens on 127.0.0.1:1")
	}
	return 1
}

// TestS3Errors checks that the usual ways of getting an S3 remote wrong
// each come back as one clear line.
func TestS3Errors(t *testing.T) {
	srv := s3test.Start(t)
	srv.MakeBucket(t, "dx-errors")
	ctx := context.Background()
	open := func(t *testing.T, c Config) Backend {
		t.Helper()
		be, err := Open(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return be
	}
	local := Config{URL: "s3://dx-errors/team/ds", Endpoint: "http://" + srv.Endpoint, PathStyle: true}
	ops := func(be Backend) map[string]error {
		return map[string]error{
			"Check": Check(ctx, be),
			"Get":   func() error { _, _, err := be.Get(ctx, "refs/heads/main", 1<<20); return err }(),
			"Put":   be.Put(ctx, "packs/x.pack", strings.NewReader("x"), 1),
			"List":  func() error { _, err := be.List(ctx, "refs/"); return err }(),
			"Swap":  func() error { _, err := be.Swap(ctx, "refs/heads/main", "", []byte("x")); return err }(),
		}
	}
	expect := func(t *testing.T, errs map[string]error, want string) {
		t.Helper()
		for op, err := range errs {
			switch {
			case err == nil:
				t.Errorf("%s succeeded", op)
			case !strings.Contains(err.Error(), want):
				t.Errorf("%s: %v, want %q", op, err, want)
			case strings.Contains(err.Error(), "\n"):
				t.Errorf("%s: error spans lines: %q", op, err)
			case op == "Check":
				t.Log(err)
			}
		}
	}

	t.Run("WrongSecret", func(t *testing.T) {
		s3Env(t, srv)
		t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret")
		expect(t, ops(open(t, local)), "access denied (check AWS_ACCESS_KEY_ID")
	})
	t.Run("UnknownKey", func(t *testing.T) {
		s3Env(t, srv)
		t.Setenv("AWS_ACCESS_KEY_ID", "nobody")
		c := local
		c.Region = "" // also through minio-go's bucket-location lookup
		t.Setenv("AWS_REGION", "")
		expect(t, ops(open(t, c)), "access denied")
	})
	t.Run("NoCredentials", func(t *testing.T) {
		isolateAWSEnv(t)
		expect(t, ops(open(t, local)), "access denied (no credentials found")
	})
	t.Run("ProfileFile", func(t *testing.T) {
		isolateAWSEnv(t)
		f := filepath.Join(t.TempDir(), "credentials")
		ini := fmt.Sprintf("[default]\naws_access_key_id = wrong\naws_secret_access_key = wrong\n\n[dx]\naws_access_key_id = %s\naws_secret_access_key = %s\n", srv.AccessKey, srv.SecretKey)
		if err := os.WriteFile(f, []byte(ini), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", f)
		t.Setenv("AWS_PROFILE", "dx")
		if err := Check(ctx, open(t, local)); err != nil {
			t.Errorf("with AWS_PROFILE=dx: %v", err)
		}
		t.Setenv("AWS_PROFILE", "")
		if err := Check(ctx, open(t, local)); err == nil || !strings.Contains(err.Error(), "access denied") {
			t.Errorf("with the default profile: %v, want access denied", err)
		}
	})
	t.Run("EndpointFromEnv", func(t *testing.T) {
		s3Env(t, srv)
		t.Setenv("AWS_ENDPOINT_URL", "http://"+srv.Endpoint)
		if err := Check(ctx, open(t, Config{URL: "s3://dx-errors/team/ds", PathStyle: true})); err != nil {
			t.Errorf("with AWS_ENDPOINT_URL: %v", err)
		}
		t.Setenv("AWS_ENDPOINT_URL_S3", "http://"+srv.Endpoint+"/x")
		if _, err := Open(ctx, Config{URL: "s3://dx-errors"}); err == nil || !strings.Contains(err.Error(), "$AWS_ENDPOINT_URL_S3") {
			t.Errorf("with a bad AWS_ENDPOINT_URL_S3: %v", err)
		}
	})
	t.Run("MissingBucket", func(t *testing.T) {
		s3Env(t, srv)
		c := local
		c.URL = "s3://no-such-bucket/team"
		expect(t, ops(open(t, c)), `remote s3://no-such-bucket/team: bucket "no-such-bucket" does not exist`)
	})
	t.Run("Unreachable", func(t *testing.T) {
		s3Env(t, srv)
		port := closedPort(t)
		c := local
		c.Endpoint = fmt.Sprintf("127.0.0.1:%d", port)
		c.Insecure = true
		be := open(t, c)
		want := fmt.Sprintf("remote s3://dx-errors/team/ds: cannot reach endpoint 127.0.0.1:%d: connection refused", port)
		for _, op := range []struct {
			name string
			fn   func() error
		}{
			{"Check", func() error { return Check(ctx, be) }},
			{"Get", func() error { _, _, err := be.Get(ctx, "refs/heads/main", 1<<20); return err }},
		} {
			start := time.Now()
			err := op.fn()
			took := time.Since(start)
			t.Logf("%s against a closed port: %v after %v", op.name, err, took.Round(time.Millisecond))
			if err == nil || err.Error() != want {
				t.Errorf("%s: %v, want %q", op.name, err, want)
			}
			if took > 60*time.Second {
				t.Errorf("%s took %v", op.name, took)
			}
		}
	})
	t.Run("PlainHTTPServerAsHTTPS", func(t *testing.T) {
		s3Env(t, srv)
		c := local
		c.Endpoint = srv.Endpoint // no scheme, not insecure: https
		err := Check(ctx, open(t, c))
		t.Log(err)
		if err == nil || !strings.Contains(err.Error(), "cannot reach endpoint") {
			t.Errorf("https to a plain http server: %v", err)
		}
	})
	t.Run("Canceled", func(t *testing.T) {
		s3Env(t, srv)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, _, err := open(t, local).Get(cctx, "refs/heads/main", 1<<20)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Get with a canceled context: %v", err)
		}
	})
}

// TestServerRestart checks the harness: a killed server comes back on the
// same address with its data.
func TestBackendServerRestart(t *testing.T) {
	srv := s3test.Start(t)
	srv.MakeBucket(t, "dx-restart")
	s3Env(t, srv)
	ctx := context.Background()
	be, err := Open(ctx, Config{URL: "s3://dx-restart", Endpoint: "http://" + srv.Endpoint, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	tag, err := be.Swap(ctx, "refs/heads/main", "", []byte("v1\n"))
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if err := Check(ctx, be); err == nil || !strings.Contains(err.Error(), "cannot reach") {
		t.Errorf("Check of a stopped server: %v", err)
	}
	srv.Restart(t)
	if b, got, err := be.Get(ctx, "refs/heads/main", 1<<20); err != nil || string(b) != "v1\n" || got != tag {
		t.Errorf("after restart: %q %q %v", b, got, err)
	}
}

func TestConfigNormalize(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	good := []struct {
		name string
		in   Config
		want Config
	}{
		{"bucket", Config{URL: "s3://bkt"}, Config{URL: "s3://bkt"}},
		{"bucket slash", Config{URL: "s3://bkt/"}, Config{URL: "s3://bkt"}},
		{"prefix", Config{URL: "s3://bkt/team/ds"}, Config{URL: "s3://bkt/team/ds"}},
		{"prefix slashes", Config{URL: "S3://bkt//team///ds/"}, Config{URL: "s3://bkt/team/ds"}},
		{"dotted bucket", Config{URL: "s3://my.bucket-1/x"}, Config{URL: "s3://my.bucket-1/x"}},
		{"endpoint url", Config{URL: "s3://bkt", Endpoint: "HTTP://127.0.0.1:9000/", PathStyle: true},
			Config{URL: "s3://bkt", Endpoint: "http://127.0.0.1:9000", PathStyle: true}},
		{"endpoint host", Config{URL: "s3://bkt", Endpoint: " minio.local:9000 ", Region: "eu-west-1", Insecure: true},
			Config{URL: "s3://bkt", Endpoint: "minio.local:9000", Region: "eu-west-1", Insecure: true}},
		{"file", Config{URL: "file:///srv/dx/remote"}, Config{URL: "file:///srv/dx/remote"}},
		{"file unclean", Config{URL: "file:///srv/dx/../remote/"}, Config{URL: "file:///srv/remote"}},
		{"file localhost", Config{URL: "file://localhost/srv/r"}, Config{URL: "file:///srv/r"}},
		{"file spaces", Config{URL: "file:///srv/my remote"}, Config{URL: "file:///srv/my remote"}},
		{"absolute path", Config{URL: "/srv/r/"}, Config{URL: "file:///srv/r"}},
		{"relative path", Config{URL: "../r"}, Config{URL: "file://" + filepath.Join(filepath.Dir(cwd), "r")}},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.in.Normalize()
			if err != nil || got != tc.want {
				t.Fatalf("Normalize(%+v) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
			if again, err := got.Normalize(); err != nil || again != got {
				t.Errorf("not idempotent: %+v, %v", again, err)
			}
		})
	}
	bad := []struct {
		name string
		in   Config
		want string
	}{
		{"empty", Config{}, "remote URL is empty"},
		{"scheme", Config{URL: "ftp://x"}, `remote URL "ftp://x": unsupported scheme (use s3://bucket/prefix or file:///path)`},
		{"no bucket", Config{URL: "s3://"}, "no bucket"},
		{"no bucket prefix", Config{URL: "s3:///p"}, "no bucket"},
		{"short bucket", Config{URL: "s3://ab"}, "3 to 63"},
		{"long bucket", Config{URL: "s3://" + strings.Repeat("a", 64)}, "3 to 63"},
		{"uppercase bucket", Config{URL: "s3://My_Bucket"}, `invalid bucket name "My_Bucket": use only lowercase`},
		{"bucket edge", Config{URL: "s3://-abc"}, "begin and end"},
		{"bucket dots", Config{URL: "s3://a..b"}, "adjacent dots"},
		{"bucket ip", Config{URL: "s3://192.168.1.1"}, "IP address"},
		{"bucket port", Config{URL: "s3://bkt:9000/x"}, "lowercase"},
		{"bucket prefix xn", Config{URL: "s3://xn--abc"}, `begin with "xn--"`},
		{"dotdot", Config{URL: "s3://bkt/a/../b"}, `".." is not allowed`},
		{"dot", Config{URL: "s3://bkt/./b"}, `"." is not allowed`},
		{"query", Config{URL: "s3://bkt/p?versionId=1"}, "no query"},
		{"no slashes", Config{URL: "s3:bkt/p"}, "malformed URL"},
		{"file relative", Config{URL: "file://relative/x"}, "absolute path"},
		{"file options", Config{URL: "file:///srv/r", Endpoint: "localhost:9000"}, "apply only to s3:// remotes"},
		{"endpoint scheme", Config{URL: "s3://bkt", Endpoint: "ftp://h:1"}, `endpoint "ftp://h:1": unsupported scheme`},
		{"endpoint path", Config{URL: "s3://bkt", Endpoint: "http://h:1/x"}, "not a host and port"},
		{"endpoint empty port", Config{URL: "s3://bkt", Endpoint: "h:"}, "empty port"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.in.Normalize()
			if err == nil {
				t.Fatalf("Normalize(%+v) = %+v, want an error", tc.in, got)
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Normalize(%+v): %v, want %q", tc.in, err, tc.want)
			}
			if _, err := Open(context.Background(), tc.in); err == nil {
				t.Errorf("Open(%+v) succeeded", tc.in)
			}
		})
	}
}
