package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// openBody returns the body of a whole GET of key (REF/PATH) in b and the
// file's size, as serveObject makes it.
func openBody(t *testing.T, b *bucket, key string) (*body, int64) {
	t.Helper()
	ctx := context.Background()
	var bd *body
	var size int64
	e := b.read(ctx, func(rp readView) *s3Error {
		obj, e := lookupObject(ctx, rp, key)
		if e != nil {
			return e
		}
		size = int64(obj.entry.Size)
		var err error
		if bd, err = b.rangeBody(ctx, rp.r, obj.entry.ID, 0, size); err != nil {
			return repoError(err)
		}
		return nil
	})
	if e != nil {
		t.Fatalf("%s: %s", key, e.Code)
	}
	t.Cleanup(bd.close)
	return bd, size
}

// smallLimits streams the test repository's big file in many batches and
// location windows.
func smallLimits(s *Server, ahead int) {
	s.limits = streamLimits{batchBytes: 1, window: 3, ahead: ahead, locateWindow: 4, inline: 2}
	s.ahead = make(chan struct{}, ahead)
}

// TestWholeGetDecodesEachChunkOnce: a GET of a whole file decodes each of
// its chunks once, in batches located a window at a time; a second GET
// decodes none (the cache has them all).
func TestWholeGetDecodesEachChunkOnce(t *testing.T) {
	tr := newTestRepo(t)
	s, hs := serveTest(t, tr, Options{Anonymous: true})
	s.limits = streamLimits{batchBytes: 150 << 10, window: 3, ahead: 2, locateWindow: 4, inline: 2}
	s.ahead = make(chan struct{}, 2)
	bd, _ := openBody(t, s.buckets["data"], "main/big.bin")
	chunks := int64(len(bd.lens))
	if chunks <= int64(s.limits.inline) || chunks <= 2*int64(s.limits.locateWindow) {
		t.Fatalf("big.bin has %d chunks: too few to stream in several windows", chunks)
	}
	big := tr.files["main"]["big.bin"]
	for i, want := range []struct{ decoded, hits int64 }{{chunks, 0}, {0, chunks}} {
		decoded, hits := s.stats.ChunksDecoded.Load(), s.stats.CacheHits.Load()
		code, _, body := get(t, hs.URL+"/data/main/big.bin", nil)
		if code != 200 || !bytes.Equal(body, big) {
			t.Fatalf("GET %d: %d with %d bytes, want 200 with %d", i+1, code, len(body), len(big))
		}
		decoded, hits = s.stats.ChunksDecoded.Load()-decoded, s.stats.CacheHits.Load()-hits
		if decoded != want.decoded || hits != want.hits {
			t.Errorf("GET %d of %d chunks: %d decoded and %d cache hits, want %d and %d", i+1, chunks, decoded, hits, want.decoded, want.hits)
		}
	}
	// The handler releases what it held after the client has the last
	// byte: wait for it, up to a bound, before calling anything held a leak.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if s.stats.BatchesAhead.Load() == 0 && len(s.ahead) == 0 {
			break
		}
	}
	if n := s.stats.BatchesAhead.Load(); n != 0 || len(s.ahead) != 0 {
		t.Errorf("after the GETs: %d batches ahead, %d tokens held", n, len(s.ahead))
	}
}

// blockedWriter holds its writes until release is closed.
type blockedWriter struct {
	release chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
}

func (w *blockedWriter) Write(p []byte) (int, error) {
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// TestReadAheadBounded: responses whose clients do not read hold their
// first batch each and, beyond it, only the server's shared budget of
// batches decoded ahead; once the clients read, every byte arrives and
// the budget is returned.
func TestReadAheadBounded(t *testing.T) {
	tr := newTestRepo(t)
	s, _ := serveTest(t, tr, Options{Anonymous: true})
	const responses, ahead = 4, 2
	smallLimits(s, ahead)
	b := s.buckets["data"]
	release := make(chan struct{})
	var wg sync.WaitGroup
	writers := make([]*blockedWriter, responses)
	errs := make([]error, responses)
	for i := range responses {
		bd, size := openBody(t, b, "main/big.bin")
		writers[i] = &blockedWriter{release: release}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = b.writeBody(context.Background(), writers[i], bd, 0, size)
		}()
	}
	// Each response gets its first batch, and the budget goes to some.
	const most = responses + ahead
	for deadline := time.Now().Add(20 * time.Second); s.stats.BatchesAhead.Load() < most; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d batches ahead, want %d", s.stats.BatchesAhead.Load(), most)
		}
	}
	time.Sleep(50 * time.Millisecond) // room to overshoot, if the bound leaked
	if peak := s.stats.BatchesAheadPeak.Load(); peak != most {
		t.Errorf("%d responses not read held %d batches at most, want %d (window %d)", responses, peak, most, s.limits.window)
	}
	close(release)
	wg.Wait()
	big := tr.files["main"]["big.bin"]
	for i, w := range writers {
		if errs[i] != nil || !bytes.Equal(w.buf.Bytes(), big) {
			t.Errorf("response %d: %v, %d bytes, want %d", i, errs[i], w.buf.Len(), len(big))
		}
	}
	if n := s.stats.BatchesAhead.Load(); n != 0 || len(s.ahead) != 0 {
		t.Errorf("after the responses: %d batches ahead, %d tokens held", n, len(s.ahead))
	}
}

// failingWriter fails every write after the first n bytes.
type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, errors.New("client gone")
	}
	return len(p), nil
}

// TestAbortedBodyReturnsItsResources: a response whose client goes away
// mid-body ends with its error, and leaves no batch ahead, no token of the
// budget, and (once closed) no user of the repository's view.
func TestAbortedBodyReturnsItsResources(t *testing.T) {
	tr := newTestRepo(t)
	s, _ := serveTest(t, tr, Options{Anonymous: true})
	smallLimits(s, 2)
	b := s.buckets["data"]
	for _, after := range []int{0, 1, 100 << 10} {
		bd, size := openBody(t, b, "main/big.bin")
		if err := b.writeBody(context.Background(), &failingWriter{n: after}, bd, 0, size); err == nil {
			t.Fatalf("a client gone after %d bytes: no error", after)
		}
		if n := s.stats.BatchesAhead.Load(); n != 0 || len(s.ahead) != 0 {
			t.Errorf("a client gone after %d bytes: %d batches ahead, %d tokens held", after, n, len(s.ahead))
		}
		bd.close()
		b.view.mu.Lock()
		users := b.view.users
		b.view.mu.Unlock()
		if users != 0 {
			t.Errorf("a client gone after %d bytes: the view has %d users", after, users)
		}
	}
}

// TestBigStreamAloneIsNotCached: a GET of a file bigger than a quarter of
// the cache, alone, decodes every chunk and caches none (so it evicts no
// other file's chunks), each time; a small file stays cached.
func TestBigStreamAloneIsNotCached(t *testing.T) {
	tr := newTestRepo(t)
	s, hs := serveTest(t, tr, Options{Anonymous: true, CacheBytes: 1 << 20})
	bd, size := openBody(t, s.buckets["data"], "main/big.bin")
	if size <= s.cache.max/4 {
		t.Fatalf("big.bin has %d bytes: not bigger than a quarter of the cache", size)
	}
	chunks := int64(len(bd.lens))
	small := tr.files["main"]["a.txt"]
	for i, c := range []struct {
		path    string
		want    []byte
		decoded int64
	}{{"a.txt", small, 1}, {"big.bin", tr.files["main"]["big.bin"], chunks}, {"big.bin", tr.files["main"]["big.bin"], chunks}, {"a.txt", small, 0}} {
		before := s.stats.ChunksDecoded.Load()
		code, _, body := get(t, hs.URL+"/data/main/"+c.path, nil)
		if code != 200 || !bytes.Equal(body, c.want) {
			t.Fatalf("GET %d of %s: %d with %d bytes, want 200 with %d", i+1, c.path, code, len(body), len(c.want))
		}
		if d := s.stats.ChunksDecoded.Load() - before; d != c.decoded {
			t.Errorf("GET %d of %s decoded %d chunks, want %d", i+1, c.path, d, c.decoded)
		}
	}
	if n := len(s.streams.n); n != 0 {
		t.Errorf("%d files still counted as streamed", n)
	}
}

// TestBigStreamsConcurrently: many responses streaming a file too big for
// the cache at once, some of them alone for a while (their buffers
// recycled) and some together (cached), all send the file's bytes.
func TestBigStreamsConcurrently(t *testing.T) {
	tr := newTestRepo(t)
	s, hs := serveTest(t, tr, Options{Anonymous: true, CacheBytes: 1 << 20})
	s.limits.batchBytes = 100 << 10
	big := tr.files["main"]["big.bin"]
	runClients(t, 24, func(i int) error {
		time.Sleep(time.Duration(i%4) * 10 * time.Millisecond) // some alone, some together
		body, err := getBody(hs.URL+"/data/main/big.bin", nil)
		if err == nil && !bytes.Equal(body, big) {
			err = fmt.Errorf("client %d: %d bytes, not the file's", i, len(body))
		}
		return err
	})
}

// runClients runs n clients at once, client(i) each, and fails the test
// with each error they return.
func runClients(t *testing.T, n int, client func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- client(i)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// getBody GETs rawURL with the headers hdr and returns the body, from
// any goroutine.
func getBody(rawURL string, hdr map[string]string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}
