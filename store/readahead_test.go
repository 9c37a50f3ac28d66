package store

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hintLog records the read-ahead's hints.
type hintLog struct {
	mu    sync.Mutex
	paths []string
	more  chan struct{} // a token per hint
}

func (h *hintLog) hint(path string, n int64) {
	if n != readAheadBytes {
		panic(fmt.Sprintf("hint of %d bytes", n))
	}
	h.mu.Lock()
	h.paths = append(h.paths, path)
	h.mu.Unlock()
	h.more <- struct{}{}
}

// wait waits for n more hints, failing if they do not come.
func (h *hintLog) wait(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-h.more:
		case <-time.After(10 * time.Second):
			t.Fatalf("a hint did not come (%d so far)", len(h.got()))
		}
	}
}

// none checks that no hint is made.
func (h *hintLog) none(t *testing.T) {
	t.Helper()
	select {
	case <-h.more:
		t.Fatalf("hinted past the window: %d hints", len(h.got()))
	case <-time.After(50 * time.Millisecond):
	}
}

func (h *hintLog) got() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.paths...)
}

func TestReadAheadWindow(t *testing.T) {
	const n = 3*readAheadFiles + 10
	files := make([]IngestFile, n)
	for i := range files {
		files[i].Path = fmt.Sprint(i)
	}
	files[readAheadFiles+1].Path = "" // content from Open: not hinted
	var next atomic.Int64
	h := &hintLog{more: make(chan struct{}, n)}
	ra := newReadAhead(files, &next, h.hint).start()

	// A window ahead of readers that took nothing, in order.
	h.wait(t, readAheadFiles)
	h.none(t)
	for i, p := range h.got() {
		if p != fmt.Sprint(i) {
			t.Fatalf("hint %d is of file %s", i, p)
		}
	}
	// Each file taken lets one more be hinted; the file without a
	// path holds a slot but is not hinted.
	for range 3 {
		next.Add(1)
		ra.took()
	}
	h.wait(t, 2)
	h.none(t)
	if got := h.got(); got[len(got)-1] != fmt.Sprint(readAheadFiles+2) {
		t.Fatalf("last hint %s, want %d", got[len(got)-1], readAheadFiles+2)
	}
	// Readers that overtook it: it goes on from where they are.
	next.Store(2*readAheadFiles + 5)
	for range readAheadFiles {
		ra.took()
	}
	h.wait(t, 1)
	if got := h.got(); got[readAheadFiles+2] != fmt.Sprint(2*readAheadFiles+5) {
		t.Fatalf("after the readers overtook it, hinted %s, want %d", got[readAheadFiles+2], 2*readAheadFiles+5)
	}
	h.wait(t, readAheadFiles-1)
	h.none(t)
	for range 10 {
		ra.took()
	}
	h.wait(t, n-(2*readAheadFiles+5)-readAheadFiles)
	h.none(t)
	ra.close()
	if got := len(h.got()); got != readAheadFiles+2+n-(2*readAheadFiles+5) {
		t.Fatalf("%d hints", got)
	}
}

// TestReadAheadStops: close returns while the read-ahead waits for a
// slot, and a nil read-ahead (no hints on this system) is a no-op.
func TestReadAheadStops(t *testing.T) {
	files := make([]IngestFile, 2*readAheadFiles)
	for i := range files {
		files[i].Path = fmt.Sprint(i)
	}
	var next atomic.Int64
	h := &hintLog{more: make(chan struct{}, len(files))}
	ra := newReadAhead(files, &next, h.hint).start()
	h.wait(t, readAheadFiles)
	ra.close()
	var none *readAhead
	none.took()
	none.close()
}
