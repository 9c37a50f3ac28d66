package store

import (
	"errors"
	"io"
	"os"
	"syscall"

	"github.com/dxdata/dx/internal/blockread"
)

// rawFile reads a regular file through plain system calls. os.File costs
// four fcntl calls and a failing epoll registration per open, which for
// many small files is more than reading them; ingest opens every file once.
type rawFile struct {
	fd   int
	path string
	read int64             // bytes Read so far
	dr   *blockread.Reader // past directFrom: the rest read directly
	noDR bool              // direct reads decided
}

// openRead opens a file for ingest. O_NONBLOCK makes a file swapped for a
// FIFO after the scan fail instead of blocking; O_NOATIME is used where
// permitted.
func openRead(path string) (io.ReadCloser, error) {
	fd, err := openFd(path)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return &rawFile{fd: fd, path: path}, nil
}

// fromFd is openRead of a file the read-ahead has opened (openFd).
func fromFd(fd int, path string) io.ReadCloser { return &rawFile{fd: fd, path: path} }

// openFd opens path for reading, without updating its access time where
// the caller may ask that (it owns the file), and without blocking on a
// FIFO put there since the scan.
func openFd(path string) (int, error) {
	const flags = syscall.O_RDONLY | syscall.O_CLOEXEC | syscall.O_NONBLOCK
	fd, err := syscall.Open(path, flags|syscall.O_NOATIME, 0)
	if err == syscall.EPERM {
		fd, err = syscall.Open(path, flags, 0)
	}
	return fd, err
}

func (f *rawFile) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if f.dr != nil {
		return f.readDirect(p)
	}
	for {
		n, err := syscall.Read(f.fd, p)
		if err == nil && n > 0 {
			f.read += int64(n)
			if f.read >= directFrom && !f.noDR {
				f.startDirect() // a big file
			}
		}
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, &os.PathError{Op: "read", Path: f.path, Err: err}
		}
		if n == 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

// ReadAt reads at off with pread, leaving the file offset alone.
func (f *rawFile) ReadAt(p []byte, off int64) (int, error) {
	done := 0
	for done < len(p) {
		n, err := syscall.Pread(f.fd, p[done:], off+int64(done))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return done, &os.PathError{Op: "read", Path: f.path, Err: err}
		}
		if n == 0 {
			return done, io.EOF
		}
		done += n
	}
	return done, nil
}

// StatsOpened: Ingest can fill IngestFile.Stat here.
const StatsOpened = true

// statOpened fills st from the open file rc (a rawFile: Ingest opens files
// by path as rawFiles), refusing one that is not a regular file.
func statOpened(rc io.Reader, st *FileStat) error {
	f, ok := rc.(*rawFile)
	if !ok {
		return errors.New("stat: not a file opened by path")
	}
	var s syscall.Stat_t
	for {
		err := syscall.Fstat(f.fd, &s)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return &os.PathError{Op: "stat", Path: f.path, Err: err}
		}
		break
	}
	if s.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return ErrNotRegular
	}
	*st = FileStat{Size: s.Size, MtimeNs: s.Mtim.Sec*1e9 + s.Mtim.Nsec, CtimeNs: s.Ctim.Sec*1e9 + s.Ctim.Nsec,
		Inode: s.Ino, Exec: s.Mode&0o111 != 0}
	return nil
}

// Size returns the file's size now.
func (f *rawFile) Size() (int64, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(f.fd, &st); err != nil {
		return 0, &os.PathError{Op: "stat", Path: f.path, Err: err}
	}
	return st.Size, nil
}

func (f *rawFile) Close() error {
	if f.fd < 0 {
		return os.ErrClosed
	}
	f.dr.Close()
	err := syscall.Close(f.fd)
	f.fd = -1
	return err
}
