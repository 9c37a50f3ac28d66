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

// willRead tells the kernel that f's first n bytes will be read soon, so
// that it reads them ahead while the caller computes. One call starts at
// most the device's readahead window (read_ahead_kb, often 128 KiB): the
// range is given in steps.
func willRead(f *os.File, n int64) {
	const step = 4 << 20
	for off := int64(0); off < n; off += step {
		if unix.Fadvise(int(f.Fd()), off, min(step, n-off), unix.FADV_WILLNEED) != nil {
			return
		}
	}
}
