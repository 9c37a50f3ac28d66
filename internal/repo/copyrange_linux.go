package repo

import (
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// inKernel reports whether a run of the source at off copied to dstOff
// goes within the kernel (copy_file_range): where the two offsets agree
// modulo the block (a row updated in place, the same length: the runs
// around it do not move), so that a file system that shares extents
// shares its whole blocks. Other runs can share nothing, and the kernel
// copies them page by page across the destination's page boundaries,
// slower than read and write through a buffer: they go through memory.
func inKernel(dstOff, off int64) bool { return (dstOff-off)%cloneBlock == 0 }

// copyInKernel copies n bytes of src at off to dst at dstOff (offsets
// that agree modulo the block) within the kernel: the head, up to a
// block boundary, first, then the whole blocks.
func copyInKernel(dst, src *os.File, dstOff, off, n int64) error {
	if head, ok := splitHead(dstOff, off, n); ok && n >= 2*cloneBlock {
		if err := copyFileRange(dst, src, dstOff, off, head); err != nil {
			return err
		}
		dstOff, off, n = dstOff+head, off+head, n-head
	}
	return copyFileRange(dst, src, dstOff, off, n)
}

// splitHead returns the head of a run of n bytes at off, copied to pos,
// to copy before both offsets are at a block boundary, when whole blocks
// follow it (ok false: there is no such head).
func splitHead(pos, off, n int64) (head int64, ok bool) {
	if (pos-off)%cloneBlock != 0 {
		return 0, false // the blocks of the two files never line up
	}
	head = (cloneBlock - off%cloneBlock) % cloneBlock
	return head, head > 0 && n-head >= cloneBlock
}

// preallocMin is the size from which a file assembled from another's
// runs has its blocks allocated before it is written (preallocate).
const preallocMin = 1 << 20

// preallocate allocates the blocks of a file of size bytes about to be
// written, keeping its size (it grows with the writes, so a short file
// stays short): a buffered write then lands on blocks already allocated,
// where ext4 would otherwise reserve a block for each page it writes
// (delayed allocation). Where it is refused (no fallocate here, a full
// disk: what it did allocate is the file's, freed with it), the writes
// go as before, and fail as they would have.
func preallocate(f *os.File, size int64) {
	if size >= preallocMin {
		_ = unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_KEEP_SIZE, 0, size)
	}
}

// copyFileRange copies n bytes of src at off to dst at dstOff, within
// the kernel in as many calls as it takes, or through a buffer where the
// kernel cannot.
func copyFileRange(dst, src *os.File, dstOff, off, n int64) error {
	for n > 0 {
		m, err := unix.CopyFileRange(int(src.Fd()), &off, int(dst.Fd()), &dstOff, int(min(n, 1<<30)), 0)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EXDEV), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EINVAL), errors.Is(err, unix.EOPNOTSUPP):
			return copyRangeFallback(dst, src, dstOff, off, n)
		case err != nil:
			return &os.PathError{Op: "copy_file_range", Path: src.Name(), Err: err}
		case m == 0:
			return io.ErrUnexpectedEOF
		}
		n -= int64(m)
	}
	return nil
}

// iovMax is the most buffers one pwritev takes (IOV_MAX).
const iovMax = 1024

// writeVecAt writes bufs, one after another, into f at off with as few
// calls as the kernel takes (pwritev), without joining them first.
func writeVecAt(f *os.File, bufs [][]byte, off int64) error {
	for {
		for len(bufs) > 0 && len(bufs[0]) == 0 {
			bufs = bufs[1:]
		}
		if len(bufs) == 0 {
			return nil
		}
		n, err := unix.Pwritev(int(f.Fd()), bufs[:min(len(bufs), iovMax)], off)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return &os.PathError{Op: "pwritev", Path: f.Name(), Err: err}
		}
		if n == 0 {
			return io.ErrShortWrite
		}
		off += int64(n)
		for n > 0 {
			k := min(n, len(bufs[0]))
			n -= k
			if bufs[0] = bufs[0][k:]; len(bufs[0]) == 0 {
				bufs = bufs[1:]
			}
		}
	}
}
