package repo

import "os"

// cloneBlock is the block size a file system that shares extents (XFS,
// btrfs) clones in: only whole blocks, at offsets that are multiples of
// it in both files.
const cloneBlock = 4096

// copyBuffer is the buffer of the runs copied through memory: as fast as
// cp's copy within the kernel from 1 MiB up.
const copyBuffer = 2 << 20

// copyRangeFallback copies n bytes of src at off to dst at dstOff through
// a buffer.
func copyRangeFallback(dst, src *os.File, dstOff, off, n int64) error {
	return copyThrough(dst, src, off, dstOff, n, make([]byte, min(n, 1<<20)))
}
