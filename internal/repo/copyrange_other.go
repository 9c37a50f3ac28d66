//go:build !linux

package repo

import "os"

// copyRangeAt copies n bytes of src at off to dst at dstOff.
func copyRangeAt(dst, src *os.File, dstOff, off, n int64) error {
	return copyRangeFallback(dst, src, dstOff, off, n)
}
