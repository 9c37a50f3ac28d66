//go:build !linux

package repo

import "os"

// rangeCopier copies runs of one file into another.
type rangeCopier struct{ buf []byte }

// copyRange copies n bytes of src at off to dst at dstOff.
func (c *rangeCopier) copyRange(dst, src *os.File, dstOff, off, n int64) error {
	if c.buf == nil {
		c.buf = make([]byte, copyBuffer)
	}
	return copyThrough(dst, src, off, dstOff, n, c.buf)
}
