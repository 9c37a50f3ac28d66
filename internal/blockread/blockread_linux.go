package blockread

import (
	"io"
	"os"
	"slices"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	blockSize = 4 << 20
	align     = 4096
)

// Reader reads a file's bytes from aligned blocks read directly.
type Reader struct {
	cached int    // the file's descriptor, through the cache
	path   string // its path, for errors
	fd     int    // the file opened again with O_DIRECT
	size   int64
	keep   int // blocks held at most while none is in use

	mu     sync.Mutex
	blocks []*block // in the order they were asked for
	free   [][]byte // buffers of evicted blocks
	wg     sync.WaitGroup
}

// block is an aligned block of the file, being read until done closes.
type block struct {
	off   int64
	buf   []byte
	n     int
	err   error
	users int // its read while in flight, and ReadAts copying from it (under Reader.mu)
	done  chan struct{}
}

// Open returns a Reader of the file open as fd at path, whose size is
// size, to read from from on; or nil, to read fd itself: the page cache
// holds half of what is left past from + room (room: what read-ahead of
// the reads so far may have filled) or more, the kernel cannot say
// (cachestat, Linux 6.5), that part is under a block, or the file system
// refuses direct reads. It opens path again: a path that names another
// file by now gives nil too. The Reader holds keep blocks (at least 2: the
// one read and the next), more while more are in use: 2 for one reader
// going in order, a few more for goroutines taking parts in turn.
func Open(fd int, path string, size, from, room int64, keep int) *Reader {
	past := from + room
	if size-past < blockSize {
		return nil
	}
	var cs unix.Cachestat_t
	if unix.Cachestat(uint(fd), &unix.CachestatRange{Off: uint64(past)}, &cs, 0) != nil || // Len 0: to the end
		int64(cs.Cache)*int64(os.Getpagesize()) >= (size-past)/2 {
		return nil
	}
	dfd, ok := openDirect(fd, path)
	if !ok {
		return nil
	}
	return &Reader{cached: fd, path: path, fd: dfd, size: size, keep: max(keep, 2)}
}

// ReadAt reads len(p) bytes at off, as io.ReaderAt does.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		b, i, end, err := r.view(off+int64(n), len(p)-n)
		if err != nil {
			return n, err
		}
		n += copy(p[n:], b.buf[i:end])
		r.release(b)
	}
	return n, nil
}

// Span returns up to n bytes at off without copying them: a view of the
// block that holds off, cut at its end, valid until release is called.
// At or past the end of the file it returns io.EOF.
func (r *Reader) Span(off int64, n int) (view []byte, release func(), err error) {
	b, i, end, err := r.view(off, n)
	if err != nil {
		return nil, nil, err
	}
	return b.buf[i:end:end], func() { r.release(b) }, nil
}

// view returns the block that holds off, in use, and the bounds in it of
// up to n bytes at off; at or past the end of the file, io.EOF.
func (r *Reader) view(off int64, n int) (b *block, i, end int, err error) {
	b = r.block(off &^ (blockSize - 1))
	<-b.done
	switch i = int(off - b.off); {
	case b.err != nil:
		err = b.err
	case i >= b.n:
		err = io.EOF
	default:
		return b, i, min(b.n, i+n), nil
	}
	r.release(b)
	return nil, 0, 0, err
}

// release ends a use of b.
func (r *Reader) release(b *block) {
	r.mu.Lock()
	b.users--
	r.mu.Unlock()
}

// block returns the block at off, in use, being read or read; and starts
// reading the next one.
func (r *Reader) block(off int64) *block {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.find(off)
	if b == nil {
		b = r.start(off)
	}
	b.users++
	if next := off + blockSize; next < r.size && r.find(next) == nil {
		r.start(next)
	}
	return b
}

func (r *Reader) find(off int64) *block {
	for _, b := range r.blocks {
		if b.off == off {
			return b
		}
	}
	return nil
}

// start reads the block at off in the background, in place of the oldest
// blocks no one uses, down to r.keep - 1 held (under mu).
func (r *Reader) start(off int64) *block {
	for len(r.blocks) >= r.keep {
		i := slices.IndexFunc(r.blocks, func(b *block) bool { return b.users == 0 })
		if i < 0 {
			break
		}
		r.free = append(r.free, r.blocks[i].buf)
		r.blocks = slices.Delete(r.blocks, i, i+1)
	}
	var buf []byte
	if n := len(r.free); n > 0 {
		buf, r.free = r.free[n-1], r.free[:n-1]
	} else {
		buf = alignedBlock()
	}
	b := &block{off: off, buf: buf, users: 1, done: make(chan struct{})} // the read is a user
	r.blocks = append(r.blocks, b)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		n, err := r.readBlock(b.buf, off)
		r.mu.Lock()
		b.n, b.err = n, err
		b.users-- // before done: whoever waited for it sees the read over
		r.mu.Unlock()
		close(b.done)
	}()
	return b
}

// readBlock reads buf at off, directly; through the cache where a direct
// read is refused after all. EINTR is retried; a short read is the end.
func (r *Reader) readBlock(buf []byte, off int64) (int, error) {
	from := r.fd
	return pread(&from, r.cached, r.path, buf, off)
}

// pread reads buf at off from *fd, a direct descriptor of path or cached;
// a direct read refused after all makes *fd cached. EINTR is retried.
func pread(fd *int, cached int, path string, buf []byte, off int64) (int, error) {
	for {
		n, err := syscall.Pread(*fd, buf, off)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EINVAL && *fd != cached:
			*fd = cached
			continue
		case err != nil:
			return 0, &os.PathError{Op: "read", Path: path, Err: err}
		}
		return n, nil
	}
}

// alignedBlock returns a block buffer aligned for direct reads.
func alignedBlock() []byte {
	b := make([]byte, blockSize+align)
	at := align - int(uintptr(unsafe.Pointer(unsafe.SliceData(b)))%align)
	return b[at : at+blockSize]
}

// Close waits for the reads in flight and closes the direct descriptor
// (not fd).
func (r *Reader) Close() error {
	if r == nil {
		return nil
	}
	r.wg.Wait()
	return syscall.Close(r.fd)
}

// Evict syncs f and drops its pages from the page cache, as for a file
// written long ago (for tests of the cold path).
func Evict(f *os.File) error {
	if err := f.Sync(); err != nil {
		return err
	}
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}
