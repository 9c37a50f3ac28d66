//go:build !linux

package repo

import "os"

// copyRange copies n bytes of src from offset off to dst at its offset.
func copyRange(dst, src *os.File, off, n int64) error { return copyRangeFallback(dst, src, off, n) }

// copyAt copies n bytes of src at srcOff to dst at dstOff.
func copyAt(dst, src *os.File, srcOff, dstOff, n int64) error {
	return copyAtFallback(dst, src, srcOff, dstOff, n)
}
