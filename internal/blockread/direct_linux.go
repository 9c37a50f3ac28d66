package blockread

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Direct reads parts of a cold file straight from the disk, each read
// widened to aligned bounds: for a file read once in scattered runs (a
// cache's values), where filling the page cache would cost more system
// time than the reads themselves.
type Direct struct {
	cached int    // the file's descriptor, through the cache
	path   string // its path, for errors
	fd     int    // the file opened again with O_DIRECT
}

// OpenDirect returns a Direct reader of the file open as fd at path, of
// size bytes; or nil, to read fd itself: the page cache holds half of the
// file or more, the kernel cannot say (cachestat, Linux 6.5), the path
// names another file by now, or the file system refuses direct reads.
func OpenDirect(fd int, path string, size int64) *Direct {
	var cs unix.Cachestat_t
	if unix.Cachestat(uint(fd), &unix.CachestatRange{}, &cs, 0) != nil || // Len 0: the whole file
		int64(cs.Cache)*int64(os.Getpagesize()) >= size/2 {
		return nil
	}
	dfd, ok := openDirect(fd, path)
	if !ok {
		return nil
	}
	return &Direct{cached: fd, path: path, fd: dfd}
}

// openDirect opens path again with O_DIRECT, if it still names the file
// open as fd.
func openDirect(fd int, path string) (int, bool) {
	dfd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_DIRECT|syscall.O_NOATIME, 0)
	if err == syscall.EPERM {
		dfd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_DIRECT, 0)
	}
	if err != nil {
		return 0, false
	}
	var a, b syscall.Stat_t
	if syscall.Fstat(fd, &a) != nil || syscall.Fstat(dfd, &b) != nil || a.Dev != b.Dev || a.Ino != b.Ino {
		syscall.Close(dfd)
		return 0, false
	}
	return dfd, true
}

// Read reads n bytes at off: data, a view of buf (grown as needed, to be
// passed again), shorter at the end of the file. A read refused after all
// goes through the cache.
func (d *Direct) Read(buf []byte, off int64, n int) (data, newBuf []byte, err error) {
	from := off &^ (align - 1)
	to := (off + int64(n) + align - 1) &^ (align - 1)
	size := int(to - from)
	if cap(buf) < size+align {
		buf = make([]byte, size+align)
	}
	at := (align - int(uintptr(unsafe.Pointer(unsafe.SliceData(buf[:1])))%align)) % align
	b := buf[at : at+size]
	got := 0
	fd := d.fd
	for got < size {
		k, err := pread(&fd, d.cached, d.path, b[got:], from+int64(got))
		if err != nil {
			return nil, buf, err
		}
		if k == 0 {
			break
		}
		got += k
	}
	lo := int(off - from)
	if got <= lo {
		return nil, buf, nil
	}
	return b[lo:min(got, lo+n)], buf, nil
}

// Close closes the direct descriptor (not fd).
func (d *Direct) Close() error {
	if d == nil {
		return nil
	}
	return syscall.Close(d.fd)
}
