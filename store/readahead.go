package store

import "sync/atomic"

// The ingest's read-ahead: one goroutine asks the kernel to start reading
// the files the readers will take next, a window ahead of them. Without
// it, on a cold page cache, each reader waits on one small read at a time
// and the cores idle; the hint asks for a file whole and returns at once,
// so many files' reads are in flight together and the kernel can merge
// neighbouring ones.

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
	hint  func(path string, n int64)
	slots chan struct{} // one for each file hinted and not yet taken
	stop  chan struct{}
	done  chan struct{}
}

// startReadAhead starts the read-ahead of files, which readers take in
// order by next; nil where the system has no hint.
func startReadAhead(files []IngestFile, next *atomic.Int64) *readAhead {
	if !canHint || len(files) < 2 {
		return nil
	}
	return newReadAhead(files, next, hintRead).start()
}

func newReadAhead(files []IngestFile, next *atomic.Int64, hint func(string, int64)) *readAhead {
	return &readAhead{files: files, next: next, hint: hint,
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
		if f := ra.files[i]; f.Open == nil && f.Path != "" {
			ra.hint(f.Path, readAheadBytes)
		}
	}
}

// took frees a slot: a reader took a file.
func (ra *readAhead) took() {
	if ra == nil {
		return
	}
	select {
	case <-ra.slots:
	default:
	}
}

// close stops the read-ahead and waits for it.
func (ra *readAhead) close() {
	if ra == nil {
		return
	}
	close(ra.stop)
	<-ra.done
}
