package store

import "sync/atomic"

// The ingest's read-ahead: one goroutine asks the kernel to start reading
// the files the readers will take next, a window ahead of them. Without
// it, on a cold page cache, each reader waits on one small read at a time
// and the cores idle; the hint asks for a file whole and returns at once,
// so many files' reads are in flight together and the kernel can merge
// neighbouring ones. The hint opens the file and hands it, open, to the
// reader that takes it: one open a file, not two (with many small files,
// the opens' path walks are a large part of the work).

// readAheadFiles is how many files the read-ahead may hint before the
// readers take them.
const readAheadFiles = 128

// readAheadBytes is how much of each file is hinted: a small file whole, a
// bigger one's head (the kernel reads ahead of a file read in order by
// itself). With readAheadFiles, at most 32 MiB are hinted and not yet read.
const readAheadBytes = 256 << 10

// readAhead is one ingest's read-ahead; nil is one that does nothing.
type readAhead struct {
	files []IngestFile
	next  *atomic.Int64 // the index of the next file the readers take
	// hint starts reading path's first n bytes and returns the file
	// open, or -1.
	hint    func(path string, n int64) int
	closeFd func(fd int)
	// opened holds, for each file, 1 + the descriptor its hint left
	// open, or takenFd once a reader has taken the file.
	opened []atomic.Int32
	slots  chan struct{} // one for each file hinted and not yet taken
	stop   chan struct{}
	done   chan struct{}
}

// takenFd marks a file of readAhead.opened that a reader has taken: a hint
// that comes after closes what it opened.
const takenFd = -1

// startReadAhead starts the read-ahead of files, which readers take in
// order by next; nil where the system has no hint.
func startReadAhead(files []IngestFile, next *atomic.Int64) *readAhead {
	if !canHint || len(files) < 2 {
		return nil
	}
	return newReadAhead(files, next, hintRead).start()
}

func newReadAhead(files []IngestFile, next *atomic.Int64, hint func(string, int64) int) *readAhead {
	return &readAhead{files: files, next: next, hint: hint, closeFd: closeFd, opened: make([]atomic.Int32, len(files)),
		slots: make(chan struct{}, readAheadFiles), stop: make(chan struct{}), done: make(chan struct{})}
}

func (ra *readAhead) start() *readAhead {
	go ra.run()
	return ra
}

func (ra *readAhead) run() {
	defer close(ra.done)
	for i := 0; i < len(ra.files); i++ {
		select {
		case ra.slots <- struct{}{}:
		case <-ra.stop:
			return
		}
		// Files the readers have taken are not hinted.
		if i = max(i, int(ra.next.Load())); i >= len(ra.files) {
			return
		}
		f := ra.files[i]
		if f.Open != nil || f.Path == "" {
			continue
		}
		if fd := ra.hint(f.Path, readAheadBytes); fd >= 0 && !ra.opened[i].CompareAndSwap(0, int32(fd)+1) {
			ra.closeFd(fd) // taken meanwhile: its reader opened it
		}
	}
}

// take frees a slot for a reader that takes file i, and returns the file
// open if its hint left it so, else -1.
func (ra *readAhead) take(i int) (fd int) {
	if ra == nil {
		return -1
	}
	select {
	case <-ra.slots:
	default:
	}
	if v := ra.opened[i].Swap(takenFd); v > 0 {
		return int(v - 1)
	}
	return -1
}

// close stops the read-ahead, waits for it, and closes the files hinted
// that no reader took (the ingest stopped early).
func (ra *readAhead) close() {
	if ra == nil {
		return
	}
	close(ra.stop)
	<-ra.done
	for i := range ra.opened {
		if v := ra.opened[i].Swap(takenFd); v > 0 {
			ra.closeFd(int(v - 1))
		}
	}
}
