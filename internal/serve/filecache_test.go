package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
)

// fileCacheServer serves tr with a file cache of budget bytes in a fresh
// directory, keeping copies of files of any size.
func fileCacheServer(t *testing.T, tr *testRepo, budget int64) (*Server, *httptest.Server, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "files")
	s, hs := serveTest(t, tr, Options{Anonymous: true, FileCacheDir: dir, FileCacheBytes: budget})
	s.files.min = 1
	return s, hs, dir
}

// cacheDirNames lists the names in the cache's directory, sorted.
func cacheDirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// etagID is the File id an ETag names.
func etagID(t *testing.T, h http.Header) string {
	t.Helper()
	id := strings.Trim(h.Get("ETag"), `"`)
	if _, err := dag.ParseID(id); err != nil {
		t.Fatalf("ETag %q: %v", h.Get("ETag"), err)
	}
	return id
}

// TestFileCacheServesRepeatedGets: the first whole GET of a file decodes
// its chunks and keeps a copy named by its File id; later GETs of it,
// whole, ranged or conditional, read no chunk from the store nor from the
// chunk cache, and answer the same bytes and headers.
func TestFileCacheServesRepeatedGets(t *testing.T) {
	tr := newTestRepo(t)
	s, hs, dir := fileCacheServer(t, tr, 64<<20)
	big := tr.files["main"]["big.bin"]
	u := hs.URL + "/data/main/big.bin"
	code, h1, body := get(t, u, nil)
	if code != 200 || !bytes.Equal(body, big) {
		t.Fatalf("first GET: %d with %d bytes", code, len(body))
	}
	id := etagID(t, h1)
	if names := cacheDirNames(t, dir); len(names) != 1 || names[0] != id {
		t.Fatalf("after the first GET the cache holds %q, want [%s]", names, id)
	}
	if n := s.stats.FileCacheFills.Load(); n != 1 {
		t.Fatalf("%d copies kept, want 1", n)
	}
	if got, err := os.ReadFile(filepath.Join(dir, id)); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("the copy: %d bytes, %v", len(got), err)
	}
	decoded, hits := s.stats.ChunksDecoded.Load(), s.stats.CacheHits.Load()
	code, h2, body := get(t, u, nil)
	if code != 200 || !bytes.Equal(body, big) {
		t.Fatalf("second GET: %d with %d bytes", code, len(body))
	}
	for _, k := range []string{"ETag", "Content-Length", "Last-Modified", "Content-Type", "x-amz-meta-dx-commit"} {
		if h1.Get(k) != h2.Get(k) {
			t.Errorf("%s: %q from the store, %q from the copy", k, h1.Get(k), h2.Get(k))
		}
	}
	rng := rand.New(rand.NewPCG(21, 21))
	for i := range 40 {
		a := rng.IntN(len(big))
		z := a + rng.IntN(len(big)-a)
		code, h, body := get(t, u, map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", a, z)})
		if code != 206 || !bytes.Equal(body, big[a:z+1]) || h.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", a, z, len(big)) {
			t.Fatalf("range %d (%d-%d): %d, %d bytes, %q", i, a, z, code, len(body), h.Get("Content-Range"))
		}
	}
	if code, _, body := get(t, u, map[string]string{"Range": "bytes=-100"}); code != 206 || !bytes.Equal(body, big[len(big)-100:]) {
		t.Fatalf("suffix range: %d, %d bytes", code, len(body))
	}
	if code, _, _ := get(t, u, map[string]string{"If-None-Match": h1.Get("ETag")}); code != http.StatusNotModified {
		t.Fatalf("If-None-Match of the ETag: %d, want 304", code)
	}
	if d, c := s.stats.ChunksDecoded.Load()-decoded, s.stats.CacheHits.Load()-hits; d != 0 || c != 0 {
		t.Errorf("GETs of a kept file read %d chunks from the store and %d from the chunk cache, want none", d, c)
	}
	if n := s.stats.FileCacheHits.Load(); n != 42 {
		t.Errorf("%d GETs served from the copy, want 42", n)
	}
}

// TestFileCacheEvictsLeastRecentlyUsed: with room for two of three files,
// a third file's copy evicts the copy used least recently, and the
// directory never holds more than the budget.
func TestFileCacheEvictsLeastRecentlyUsed(t *testing.T) {
	tr := newTestRepo(t)
	var paths []string
	seen := map[string]bool{}
	for p, b := range tr.files["main"] {
		if len(b) > 500 && !seen[string(b)] {
			seen[string(b)] = true
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	if len(paths) < 3 {
		t.Fatalf("the test repository has %d distinct files over 500 bytes", len(paths))
	}
	a, b, c := paths[0], paths[1], paths[2]
	files := tr.files["main"]
	budget := int64(len(files[a]) + len(files[b]) + len(files[c]) - 1)
	s, hs, dir := fileCacheServer(t, tr, budget)
	ids := map[string]string{}
	getFile := func(p string) {
		t.Helper()
		code, h, body := get(t, hs.URL+"/data/main/"+escapePath(p), nil)
		if code != 200 || !bytes.Equal(body, files[p]) {
			t.Fatalf("GET %s: %d with %d bytes", p, code, len(body))
		}
		ids[p] = etagID(t, h)
		var used int64
		for _, n := range cacheDirNames(t, dir) {
			fi, err := os.Stat(filepath.Join(dir, n))
			if err != nil {
				t.Fatal(err)
			}
			used += fi.Size()
		}
		if used > budget {
			t.Fatalf("after GET %s the cache holds %d bytes, over its %d", p, used, budget)
		}
	}
	getFile(a)
	getFile(b)
	getFile(a) // a is now the most recently used
	getFile(c) // b goes
	want := []string{ids[a], ids[c]}
	sort.Strings(want)
	if got := cacheDirNames(t, dir); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("the cache holds %q, want %q (a and c)", got, want)
	}
	if n := s.stats.FileCacheEvictions.Load(); n != 1 {
		t.Errorf("%d evictions, want 1", n)
	}
	if s.files.size > budget {
		t.Errorf("the cache counts %d bytes, over its %d", s.files.size, budget)
	}
}

// escapePath escapes each component of a key's path for a URL.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, c := range parts {
		parts[i] = url.PathEscape(c)
	}
	return strings.Join(parts, "/")
}

// cutResponse is a ResponseWriter whose client goes away after n bytes of
// the body, or (with release set) whose writes wait until release closes.
type cutResponse struct {
	h       http.Header
	n       int
	release chan struct{}
	started chan struct{} // closed at the first write
	once    sync.Once
	buf     bytes.Buffer
}

func newCutResponse(n int) *cutResponse {
	return &cutResponse{h: http.Header{}, n: n, started: make(chan struct{})}
}

func (w *cutResponse) Header() http.Header { return w.h }
func (w *cutResponse) WriteHeader(int)     {}
func (w *cutResponse) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.started) })
	if w.release != nil {
		<-w.release
	}
	if w.n -= len(p); w.n < 0 {
		return 0, errors.New("client gone")
	}
	return w.buf.Write(p)
}

// serveCut serves a request to w and reports whether the handler aborted
// the connection.
func serveCut(s *Server, w http.ResponseWriter, target string) (aborted bool) {
	defer func() {
		if r := recover(); r != nil {
			if r != http.ErrAbortHandler {
				panic(r)
			}
			aborted = true
		}
	}()
	s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	return false
}

// TestFileCacheClientGoneLeavesNothing: a whole GET whose client goes away
// before the last batch keeps no copy and leaves no temporary file; the
// next whole GET keeps one. (The copy is named when it holds every byte,
// before the last batch goes to the client: a client gone during that
// write leaves a whole copy.)
func TestFileCacheClientGoneLeavesNothing(t *testing.T) {
	tr := newTestRepo(t)
	s, hs, dir := fileCacheServer(t, tr, 64<<20)
	const batch = 64 << 10
	s.limits.batchBytes = batch
	big := tr.files["main"]["big.bin"]
	for i, after := range []int{0, 1, 300 << 10, len(big) / 2} {
		if !serveCut(s, newCutResponse(after), "/data/main/big.bin") {
			t.Fatalf("a client gone after %d bytes: the response was not cut", after)
		}
		if names := cacheDirNames(t, dir); len(names) != 0 {
			t.Fatalf("a client gone after %d bytes left %q in the cache", after, names)
		}
		if n := s.stats.FileCacheAbandoned.Load(); n != int64(i+1) {
			t.Fatalf("after %d cut responses, %d fills given up", i+1, n)
		}
	}
	if s.files.size != 0 || len(s.files.filling) != 0 {
		t.Fatalf("the cache counts %d bytes and %d fills after the cut responses", s.files.size, len(s.files.filling))
	}
	if !serveCut(s, newCutResponse(len(big)-1), "/data/main/big.bin") {
		t.Fatal("a client gone at the last byte: the response was not cut")
	}
	names := cacheDirNames(t, dir)
	if len(names) != 1 || s.stats.FileCacheFills.Load() != 1 {
		t.Fatalf("a client gone at the last byte left %q in the cache", names)
	}
	if got, err := os.ReadFile(filepath.Join(dir, names[0])); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("the copy has %d bytes (%v), not the file's", len(got), err)
	}
	if code, _, body := get(t, hs.URL+"/data/main/big.bin", nil); code != 200 || !bytes.Equal(body, big) || s.stats.FileCacheHits.Load() != 1 {
		t.Fatalf("GET: %d, %d bytes", code, len(body))
	}
}

// TestFileCacheOneFillAtOnce: while one response fills a file's copy,
// another whole GET of it streams from the store and fills nothing; once
// the first ends, the copy is the file's.
func TestFileCacheOneFillAtOnce(t *testing.T) {
	tr := newTestRepo(t)
	s, hs, dir := fileCacheServer(t, tr, 64<<20)
	big := tr.files["main"]["big.bin"]
	slow := newCutResponse(len(big))
	slow.release = make(chan struct{})
	done := make(chan bool)
	go func() { done <- serveCut(s, slow, "/data/main/big.bin") }()
	<-slow.started // its fill has begun: fills start before the first write
	for range 3 {
		if code, _, body := get(t, hs.URL+"/data/main/big.bin", nil); code != 200 || !bytes.Equal(body, big) {
			t.Fatalf("GET during the fill: %d, %d bytes", code, len(body))
		}
	}
	if f, a := s.stats.FileCacheFills.Load(), s.stats.FileCacheAbandoned.Load(); f != 0 || a != 0 {
		t.Fatalf("while one fill runs: %d copies kept, %d given up; want none", f, a)
	}
	close(slow.release)
	if <-done {
		t.Fatal("the slow response was cut")
	}
	if !bytes.Equal(slow.buf.Bytes(), big) {
		t.Fatalf("the slow response sent %d bytes", slow.buf.Len())
	}
	if names := cacheDirNames(t, dir); len(names) != 1 || s.stats.FileCacheFills.Load() != 1 {
		t.Fatalf("after the fill the cache holds %q", names)
	}
}

// TestFileCacheDamagedCopyNotServed: a copy of the wrong size (cut short,
// grown, or gone) is dropped and the file served from the store, and a
// new copy is kept.
func TestFileCacheDamagedCopyNotServed(t *testing.T) {
	tr := newTestRepo(t)
	s, hs, dir := fileCacheServer(t, tr, 64<<20)
	big := tr.files["main"]["big.bin"]
	u := hs.URL + "/data/main/big.bin"
	_, h, _ := get(t, u, nil)
	copyPath := filepath.Join(dir, etagID(t, h))
	for i, damage := range []func() error{
		func() error { return os.Truncate(copyPath, int64(len(big)-1)) },
		func() error { return os.Truncate(copyPath, 0) },
		func() error { return os.WriteFile(copyPath, append(bytes.Clone(big), 'x'), 0o600) },
		func() error { return os.Remove(copyPath) },
	} {
		if err := damage(); err != nil {
			t.Fatal(err)
		}
		read := s.stats.ChunksDecoded.Load() + s.stats.CacheHits.Load()
		code, _, body := get(t, u, map[string]string{"Range": "bytes=100-"})
		if code != 206 || !bytes.Equal(body, big[100:]) {
			t.Fatalf("damage %d: a ranged GET got %d, %d bytes", i, code, len(body))
		}
		if s.stats.ChunksDecoded.Load()+s.stats.CacheHits.Load() == read {
			t.Fatalf("damage %d: the ranged GET read no chunk: the damaged copy was served", i)
		}
		if n := s.stats.FileCacheDiscards.Load(); n != int64(i+1) {
			t.Fatalf("damage %d: %d copies dropped", i, n)
		}
		if code, _, body := get(t, u, nil); code != 200 || !bytes.Equal(body, big) {
			t.Fatalf("damage %d: GET %d, %d bytes", i, code, len(body))
		}
		s.fills.Wait() // the ranged GET may have filled the copy in the background
		if got, err := os.ReadFile(copyPath); err != nil || !bytes.Equal(got, big) {
			t.Fatalf("damage %d: the new copy has %d bytes (%v)", i, len(got), err)
		}
	}
}

// TestFileCacheFilledFromRanges: ranged GETs that add up to half a file
// fill its copy in the background (once, however many ranges follow);
// ranges under half of it fill nothing; once kept, ranges read no chunk.
func TestFileCacheFilledFromRanges(t *testing.T) {
	tr := newTestRepo(t)
	s, hs, dir := fileCacheServer(t, tr, 64<<20)
	big := tr.files["main"]["big.bin"]
	u := hs.URL + "/data/main/big.bin"
	third := len(big) / 3
	getRange := func(a, z int) {
		t.Helper()
		if code, _, body := get(t, u, map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", a, z-1)}); code != 206 || !bytes.Equal(body, big[a:z]) {
			t.Fatalf("range %d-%d: %d, %d bytes", a, z, code, len(body))
		}
	}
	getRange(0, third)
	req, _ := http.NewRequest(http.MethodHead, u, nil)
	if code, _, _ := do(t, req); code != 200 {
		t.Fatalf("HEAD: %d", code)
	}
	s.fills.Wait()
	if names := cacheDirNames(t, dir); len(names) != 0 || s.stats.FileCacheFills.Load() != 0 {
		t.Fatalf("a third of the file read in a range, and a HEAD, filled %q", names)
	}
	getRange(third, 2*third) // two thirds: hot
	s.fills.Wait()
	if n := s.stats.FileCacheFills.Load(); n != 1 {
		t.Fatalf("after ranges over half the file, %d copies kept (%d given up)", n, s.stats.FileCacheAbandoned.Load())
	}
	if got, err := os.ReadFile(filepath.Join(dir, cacheDirNames(t, dir)[0])); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("the copy filled in the background: %d bytes, %v", len(got), err)
	}
	decoded, hits := s.stats.ChunksDecoded.Load(), s.stats.CacheHits.Load()
	getRange(2*third, len(big))
	getRange(0, len(big))
	if d, c := s.stats.ChunksDecoded.Load()-decoded, s.stats.CacheHits.Load()-hits; d != 0 || c != 0 || s.stats.FileCacheHits.Load() != 2 {
		t.Errorf("ranges of the kept file read %d chunks and %d from the chunk cache, %d from the copy", d, c, s.stats.FileCacheHits.Load())
	}
}

// TestFileCacheBackgroundFillStops: a background fill cut by the server
// stopping leaves no copy and no temporary file.
func TestFileCacheBackgroundFillStops(t *testing.T) {
	tr := newTestRepo(t)
	s, hs, dir := fileCacheServer(t, tr, 64<<20)
	req, _ := http.NewRequest(http.MethodHead, hs.URL+"/data/main/big.bin", nil)
	_, h, _ := do(t, req)
	id, err := dag.ParseID(etagID(t, h))
	if err != nil {
		t.Fatal(err)
	}
	// A writer holds the repository: the fill waits to open it.
	w, err := repo.Open(context.Background(), tr.dir, repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	s.buckets["data"].fillInBackground(id, int64(len(tr.files["main"]["big.bin"])))
	if len(cacheDirNames(t, dir)) != 1 {
		t.Fatalf("a fill under way: the cache holds %q, want its temporary file", cacheDirNames(t, dir))
	}
	s.stopFills()
	if names := cacheDirNames(t, dir); len(names) != 0 {
		t.Fatalf("a fill cut by the server stopping left %q", names)
	}
	if f, a := s.stats.FileCacheFills.Load(), s.stats.FileCacheAbandoned.Load(); f != 0 || a != 1 || s.files.size != 0 || len(s.files.filling) != 0 {
		t.Fatalf("after the cut fill: %d kept, %d given up, %d bytes and %d fills counted", f, a, s.files.size, len(s.files.filling))
	}
	s.buckets["data"].fillInBackground(id, 1)
	if names := cacheDirNames(t, dir); len(names) != 0 {
		t.Fatalf("a stopped server started a fill: %q", names)
	}
}

// testFill fills a copy of content under id in c.
func testFill(t *testing.T, c *fileCache, id dag.ID, content string) bool {
	t.Helper()
	fl := c.startFill(id, int64(len(content)))
	if fl == nil {
		return false
	}
	fl.write([]byte(content))
	fl.abandon() // nothing once kept
	return true
}

// TestFileCacheReaderOutlivesEviction: a copy evicted while a reader has
// it open reads whole.
func TestFileCacheReaderOutlivesEviction(t *testing.T) {
	c, err := newFileCache(t.TempDir(), 10, &Stats{})
	if err != nil {
		t.Fatal(err)
	}
	c.min = 1
	if !testFill(t, c, dag.ID{1}, "hello") {
		t.Fatal("no fill")
	}
	f := c.open(dag.ID{1}, 5)
	if f == nil {
		t.Fatal("the copy is not kept")
	}
	defer f.Close()
	if !testFill(t, c, dag.ID{2}, "second") { // 11 bytes: the first goes
		t.Fatal("no fill")
	}
	if c.open(dag.ID{1}, 5) != nil || c.stats.FileCacheEvictions.Load() != 1 {
		t.Fatal("the first copy was not evicted")
	}
	if got, err := io.ReadAll(f); err != nil || string(got) != "hello" {
		t.Fatalf("the evicted copy read %q, %v", got, err)
	}
	if testFill(t, c, dag.ID{3}, "eleven bytes") {
		t.Fatal("a file bigger than the cache was filled")
	}
}

// TestFileCacheRefusals: no fill for a file too small, kept already, or
// that would leave the disk short of room.
func TestFileCacheRefusals(t *testing.T) {
	c, err := newFileCache(t.TempDir(), 1<<20, &Stats{})
	if err != nil {
		t.Fatal(err)
	}
	c.min = 4
	if testFill(t, c, dag.ID{1}, "abc") {
		t.Error("a file under the minimum was filled")
	}
	if !testFill(t, c, dag.ID{2}, "abcd") || testFill(t, c, dag.ID{2}, "abcd") {
		t.Error("a file was filled twice")
	}
	c.free = func(string) (int64, error) { return fileCacheFreeMargin + 4, nil }
	if testFill(t, c, dag.ID{3}, "abcde") {
		t.Error("a fill went into the disk's margin")
	}
	if !testFill(t, c, dag.ID{4}, "abcd") {
		t.Error("a fill that fits the disk was refused")
	}
}

// TestFileCacheEmptiedAtStart: opening the cache removes the copies and
// temporary files an earlier run left, and nothing else.
func TestFileCacheEmptiedAtStart(t *testing.T) {
	dir := t.TempDir()
	id := dag.ID{7}.String()
	for _, n := range []string{id, fillPrefix + id + "-123", "notes.txt", "abc"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := newFileCache(dir, 1<<20, &Stats{})
	if err != nil {
		t.Fatal(err)
	}
	if got := cacheDirNames(t, dir); strings.Join(got, " ") != "abc notes.txt" {
		t.Fatalf("after opening, the directory holds %q", got)
	}
	if c.open(dag.ID{7}, 1) != nil {
		t.Fatal("a copy of an earlier run was served")
	}
}

// TestFileCacheConcurrentGets: many clients at once read a file whole
// and in ranges, some while the copy is being filled, with a budget that
// holds one copy so others evict it; all get the file's bytes.
func TestFileCacheConcurrentGets(t *testing.T) {
	tr := newTestRepo(t)
	big := tr.files["main"]["big.bin"]
	s, hs, _ := fileCacheServer(t, tr, int64(len(big))+3)
	s.limits.batchBytes = 100 << 10
	runClients(t, 32, func(i int) error {
		time.Sleep(time.Duration(i%4) * 5 * time.Millisecond)
		p, want, hdr := "big.bin", big, map[string]string(nil)
		switch i % 4 {
		case 1:
			hdr = map[string]string{"Range": fmt.Sprintf("bytes=%d-", i*1000)}
			want = big[i*1000:]
		case 2: // another file, to evict big.bin's copy
			p = "a-b"
			want = tr.files["main"][p]
		}
		body, err := getBody(hs.URL+"/data/main/"+p, hdr)
		if err == nil && !bytes.Equal(body, want) {
			err = fmt.Errorf("client %d: %d bytes of %s, not its", i, len(body), p)
		}
		return err
	})
	s.fills.Wait()
	if s.files.size > s.files.max || len(s.files.filling) != 0 {
		t.Errorf("the cache counts %d bytes of %d and %d fills", s.files.size, s.files.max, len(s.files.filling))
	}
}
