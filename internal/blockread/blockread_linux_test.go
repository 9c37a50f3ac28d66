package blockread

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// coldFile writes data to a new file, drops its pages from the page
// cache and returns it open.
func coldFile(t *testing.T, data []byte) (*os.File, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := Evict(f); err != nil {
		t.Fatal(err)
	}
	return f, path
}

// directHere says whether this file system and kernel allow direct reads
// with cachestat; without, Open must give nil.
func directHere(t *testing.T, f *os.File, path string) bool {
	var cs unix.Cachestat_t
	if err := unix.Cachestat(uint(f.Fd()), &unix.CachestatRange{}, &cs, 0); err != nil {
		t.Logf("no cachestat here (%v)", err)
		return false
	}
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		t.Logf("O_DIRECT refused here (%v)", err)
		return false
	}
	syscall.Close(fd)
	return true
}

// openCold writes data to a cold file and opens a Reader of it keeping
// keep blocks, closed at the end of the test; nil where direct reads are
// not allowed here (Open must then give nil).
func openCold(t *testing.T, data []byte, keep int) *Reader {
	t.Helper()
	f, path := coldFile(t, data)
	r := Open(int(f.Fd()), path, int64(len(data)), 0, 0, keep)
	if direct := directHere(t, f, path); (r != nil) != direct {
		t.Fatalf("Open gave a reader: %v; direct reads here: %v", r != nil, direct)
	}
	if r != nil {
		t.Cleanup(func() { r.Close() })
	}
	return r
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestConcurrentSpans: goroutines taking a file's spans in turn, as a
// table check does, read the file's bytes; past the end is io.EOF.
func TestConcurrentSpans(t *testing.T) {
	data := randomBytes(5*blockSize+777, 1)
	r := openCold(t, data, 6)
	if r == nil {
		return
	}
	rng := rand.New(rand.NewPCG(2, 3))
	type span struct{ off, n int }
	var spans []span
	for off := 0; off < len(data); {
		n := min(1+rng.IntN(300<<10), len(data)-off)
		spans = append(spans, span{off, n})
		off += n
	}
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(spans) {
					return
				}
				s := spans[i]
				buf := make([]byte, s.n)
				if n, err := r.ReadAt(buf, int64(s.off)); err != nil || n != s.n || !bytes.Equal(buf, data[s.off:s.off+s.n]) {
					t.Errorf("span at %d: %d bytes, %v", s.off, n, err)
					return
				}
			}
		})
	}
	wg.Wait()
	buf := make([]byte, 1000)
	n, err := r.ReadAt(buf, int64(len(data)-10))
	if n != 10 || !errors.Is(err, io.EOF) || !bytes.Equal(buf[:10], data[len(data)-10:]) {
		t.Fatalf("read over the end: %d bytes, %v", n, err)
	}
	if len(r.blocks) > r.keep+1 {
		t.Fatalf("%d blocks held", len(r.blocks))
	}
}

// TestWarmFileReadThroughCache: a file the page cache holds is not read
// directly.
func TestWarmFileReadThroughCache(t *testing.T) {
	data := randomBytes(3*blockSize, 4)
	f, path := coldFile(t, data)
	if _, err := io.ReadAll(f); err != nil {
		t.Fatal(err)
	}
	if r := Open(int(f.Fd()), path, int64(len(data)), 0, 0, 6); r != nil {
		r.Close()
		t.Fatal("a cached file read directly")
	}
}

// TestSpanViews: views of a cold file, taken in turn, hold its bytes, cut
// at the end of their block; a view held while the rest of the file is
// read keeps its bytes (its block is not reused), and the blocks held
// stay few once views are released. Past the end is io.EOF.
func TestSpanViews(t *testing.T) {
	data := randomBytes(6*blockSize+4321, 7)
	r := openCold(t, data, 2)
	if r == nil {
		return
	}
	held, releaseHeld, err := r.Span(100, 1000)
	if err != nil || !bytes.Equal(held, data[100:1100]) {
		t.Fatalf("first view: %d bytes, %v", len(held), err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for off := 1100; off < len(data); {
		want := min(1+rng.IntN(3*blockSize/2), len(data)-off)
		v, release, err := r.Span(int64(off), want)
		if err != nil {
			t.Fatalf("view at %d: %v", off, err)
		}
		blockEnd := (off/blockSize + 1) * blockSize
		if n := min(want, blockEnd-off); len(v) != n || !bytes.Equal(v, data[off:off+n]) {
			t.Fatalf("view at %d of %d: %d bytes, want %d (to the block's end)", off, want, len(v), n)
		}
		release()
		off += len(v)
	}
	if !bytes.Equal(held, data[100:1100]) {
		t.Fatal("a view held changed while later blocks were read")
	}
	releaseHeld()
	if len(r.blocks) > r.keep+1 {
		t.Fatalf("%d blocks held once every view was released", len(r.blocks))
	}
	if _, _, err := r.Span(int64(len(data)), 10); !errors.Is(err, io.EOF) {
		t.Fatalf("a view at the end: %v, want io.EOF", err)
	}
}
