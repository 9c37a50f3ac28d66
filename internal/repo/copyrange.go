package repo

import "os"

// copyRangeFallback copies n bytes of src at off to dst at dstOff through
// a buffer.
func copyRangeFallback(dst, src *os.File, dstOff, off, n int64) error {
	return copyThrough(dst, src, off, dstOff, n, make([]byte, min(n, 1<<20)))
}
