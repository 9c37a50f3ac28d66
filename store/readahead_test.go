package store

import (
	"fmt"
	"runtime"
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

func (h *hintLog) hint(path string, n int64) int {
	if n != readAheadBytes {
		panic(fmt.Sprintf("hint of %d bytes", n))
	}
	h.mu.Lock()
	h.paths = append(h.paths, path)
	h.mu.Unlock()
	h.more <- struct{}{}
	return -1
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
		ra.take(int(next.Add(1) - 1))
	}
	h.wait(t, 2)
	h.none(t)
	if got := h.got(); got[len(got)-1] != fmt.Sprint(readAheadFiles+2) {
		t.Fatalf("last hint %s, want %d", got[len(got)-1], readAheadFiles+2)
	}
	// Readers that overtook it: it goes on from where they are.
	next.Store(2*readAheadFiles + 5)
	for i := range readAheadFiles {
		ra.take(3 + i)
	}
	h.wait(t, 1)
	if got := h.got(); got[readAheadFiles+2] != fmt.Sprint(2*readAheadFiles+5) {
		t.Fatalf("after the readers overtook it, hinted %s, want %d", got[readAheadFiles+2], 2*readAheadFiles+5)
	}
	h.wait(t, readAheadFiles-1)
	h.none(t)
	for i := range 10 {
		ra.take(2*readAheadFiles + 5 + i)
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
	if fd := none.take(0); fd != -1 {
		t.Fatalf("a nil read-ahead handed over %d", fd)
	}
	none.close()
}

// TestReadAheadHandsOver: every file a hint opens is either handed to the
// reader that takes it or closed, once: by the hint, when a reader took
// the file first, or by close, when the ingest stopped before a reader
// took it. Readers race the hints; the descriptors are stand-ins.
func TestReadAheadHandsOver(t *testing.T) {
	const n = 4 * readAheadFiles
	for round := range 20 {
		files := make([]IngestFile, n)
		for i := range files {
			files[i].Path = fmt.Sprint(i)
		}
		var next atomic.Int64
		var mu sync.Mutex
		opened := map[int]bool{} // fd → open
		handed := map[int]int{}  // fd → times handed to a reader
		closed := map[int]int{}  // fd → times closed
		hinted := make([]atomic.Bool, n)
		ra := newReadAhead(files, &next, func(path string, _ int64) int {
			var i int
			fmt.Sscan(path, &i)
			defer hinted[i].Store(true)
			if i%7 == 3 {
				return -1 // it could not be opened
			}
			mu.Lock()
			opened[1000+i] = true
			mu.Unlock()
			return 1000 + i
		})
		ra.closeFd = func(fd int) {
			mu.Lock()
			closed[fd]++
			mu.Unlock()
		}
		ra.start()
		// Readers take files until stop, which is part-way through in
		// odd rounds (an ingest that failed).
		stop := n
		if round%2 == 1 {
			stop = n / 3
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1) - 1)
					if i >= stop {
						return
					}
					// Half the files are taken once hinted (or after
					// a while: the hints may have skipped them).
					for wait := time.Now(); i%2 == 0 && !hinted[i].Load() && time.Since(wait) < time.Millisecond; {
						runtime.Gosched()
					}
					if fd := ra.take(i); fd >= 0 {
						if fd != 1000+i {
							t.Errorf("file %d handed over as %d", i, fd)
						}
						mu.Lock()
						handed[fd]++
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		ra.close()
		for fd := range opened {
			if handed[fd]+closed[fd] != 1 {
				t.Fatalf("round %d: fd %d handed over %d times and closed %d times", round, fd, handed[fd], closed[fd])
			}
		}
		for fd := range closed {
			if !opened[fd] {
				t.Fatalf("round %d: closed %d, never opened", round, fd)
			}
		}
		if round%2 == 0 && len(handed) == 0 {
			t.Fatalf("round %d: no file handed over", round)
		}
	}
}
