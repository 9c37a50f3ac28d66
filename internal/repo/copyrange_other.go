//go:build !linux

package repo

import "os"

// inKernel reports whether a run goes within the kernel: never here.
func inKernel(dstOff, off int64) bool { return false }

// copyInKernel copies n bytes of src at off to dst at dstOff.
func copyInKernel(dst, src *os.File, dstOff, off, n int64) error {
	return copyRangeFallback(dst, src, dstOff, off, n)
}

// writeVecAt writes bufs, one after another, into f at off.
func writeVecAt(f *os.File, bufs [][]byte, off int64) error {
	for _, b := range bufs {
		if _, err := f.WriteAt(b, off); err != nil {
			return err
		}
		off += int64(len(b))
	}
	return nil
}

// preallocate allocates a file's blocks ahead of its writes: not here.
func preallocate(f *os.File, size int64) {}
