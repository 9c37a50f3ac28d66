package repo

import (
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// copyRange copies n bytes of src from offset off to dst at its offset,
// within the kernel (copy_file_range): no copy through user memory, and
// a filesystem that shares blocks shares them.
func copyRange(dst, src *os.File, off, n int64) error {
	for n > 0 {
		m, err := unix.CopyFileRange(int(src.Fd()), &off, int(dst.Fd()), nil, int(min(n, 1<<30)), 0)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EXDEV), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EINVAL), errors.Is(err, unix.EOPNOTSUPP):
			return copyRangeFallback(dst, src, off, n)
		case err != nil:
			return &os.PathError{Op: "copy_file_range", Path: src.Name(), Err: err}
		case m == 0:
			return io.ErrUnexpectedEOF
		}
		n -= int64(m)
	}
	return nil
}
