//go:build !linux

package repo

import "os"

// inKernel reports whether a run goes within the kernel: never here.
func inKernel(dstOff, off int64) bool { return false }

// copyInKernel copies n bytes of src at off to dst at dstOff.
func copyInKernel(dst, src *os.File, dstOff, off, n int64) error {
	return copyRangeFallback(dst, src, dstOff, off, n)
}
