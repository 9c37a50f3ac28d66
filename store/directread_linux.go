package store

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Past directFrom bytes, ingest reads a cold file in blocks straight
// from the disk with O_DIRECT, the next block read while the chunker cuts
// the last. Filling the page cache with a cold file costs more system
// time than chunking it, on a core that compression wants; a direct read
// costs almost none, and leaves the cache to what the user reads. A file
// whose rest the cache mostly holds (one just written) is read through
// the cache, as is every file where the kernel cannot say what it caches
// (cachestat, Linux 6.5) or the file system refuses direct reads.
const (
	directFrom  = 8 << 20
	directBlock = 4 << 20
	directAlign = 4096
	// readAheadRoom is how far past what was read the kernel's read-ahead
	// may have filled the cache (read_ahead_kb is 8 MiB on some disks).
	readAheadRoom = 16 << 20
)

// directReader reads a file's blocks from offset off on.
type directReader struct {
	fd     int       // the file opened again with O_DIRECT; -1: none
	cached int       // the file's own descriptor, through the cache
	spare  []byte    // the block buffer not in win's
	win    []byte    // the current block's bytes not yet handed out
	skip   int       // bytes of the next block read already
	ahead  chan read // the next block's read, in flight (nil: none)
	eof    bool      // the last block is read
	err    error
}

// read is a block read: n bytes into buf from off.
type read struct {
	buf []byte
	off int64
	n   int
	err error
}

// newDirectReader opens path again for direct reads from off, or returns
// nil: the cache holds half the rest or more, the kernel cannot say, or
// the file system refuses direct reads.
func newDirectReader(path string, cached int, off int64) *directReader {
	var st syscall.Stat_t
	var cs unix.Cachestat_t
	// The cache may hold the next MiBs by the kernel's read-ahead of the
	// reads so far: what it holds past them tells.
	from := off + readAheadRoom
	if syscall.Fstat(cached, &st) != nil || st.Size <= from ||
		unix.Cachestat(uint(cached), &unix.CachestatRange{Off: uint64(from)}, &cs, 0) != nil || // Len 0: to the end
		int64(cs.Cache)*int64(os.Getpagesize()) >= (st.Size-from)/2 {
		return nil
	}
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_DIRECT|syscall.O_NOATIME, 0)
	if err == syscall.EPERM {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_DIRECT, 0)
	}
	if err != nil {
		return nil
	}
	// The path may name another file by now (replaced by a rename).
	var dst syscall.Stat_t
	if syscall.Fstat(fd, &dst) != nil || dst.Dev != st.Dev || dst.Ino != st.Ino {
		syscall.Close(fd)
		return nil
	}
	d := &directReader{fd: fd, cached: cached, spare: alignedBlock()}
	start := off &^ (directAlign - 1)
	d.skip = int(off - start)
	d.start(alignedBlock(), start)
	return d
}

// alignedBlock returns a block buffer aligned for direct reads.
func alignedBlock() []byte {
	b := make([]byte, directBlock+directAlign)
	at := directAlign - int(uintptr(unsafe.Pointer(unsafe.SliceData(b)))%directAlign)
	return b[at : at+directBlock]
}

// start reads the block at off into buf in the background.
func (d *directReader) start(buf []byte, off int64) {
	d.ahead = make(chan read, 1)
	go func(fd, cached int, ch chan<- read) {
		n, err := readBlock(fd, cached, buf, off)
		ch <- read{buf: buf, off: off, n: n, err: err}
	}(d.fd, d.cached, d.ahead)
}

func (d *directReader) read(p []byte, path string) (int, error) {
	for len(d.win) == 0 {
		if d.err != nil {
			return 0, &os.PathError{Op: "read", Path: path, Err: d.err}
		}
		if d.eof || d.ahead == nil {
			return 0, nil // the caller says io.EOF
		}
		r := <-d.ahead
		d.ahead = nil
		if r.err != nil {
			d.err = r.err
			continue
		}
		if r.n == 0 {
			d.eof = true
			continue
		}
		if r.n == len(r.buf) { // not the last block: read the next now
			d.start(d.spare, r.off+int64(r.n))
		} else {
			d.eof = true
		}
		d.spare = r.buf
		if r.n > d.skip {
			d.win = r.buf[d.skip:r.n]
		}
		d.skip = 0
	}
	n := copy(p, d.win)
	d.win = d.win[n:]
	return n, nil
}

// readBlock reads buf's length at off: directly (fd), or through the
// cache (cached) where off is not aligned (after a short read) or a
// direct read is refused; EINTR is retried.
func readBlock(fd, cached int, buf []byte, off int64) (int, error) {
	from := fd
	if off%directAlign != 0 {
		from = cached
	}
	for {
		n, err := syscall.Pread(from, buf, off)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EINVAL && from == fd: // refused after all
			from = cached
			continue
		case err != nil:
			return 0, err
		}
		return n, nil
	}
}

// close waits for a read in flight and closes the direct descriptor.
func (d *directReader) close() {
	if d.ahead != nil {
		<-d.ahead
		d.ahead = nil
	}
	syscall.Close(d.fd)
}
