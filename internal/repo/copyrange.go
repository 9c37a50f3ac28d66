package repo

import (
	"io"
	"os"
)

// copyRangeFallback copies n bytes of src from off to dst's offset through
// a buffer.
func copyRangeFallback(dst, src *os.File, off, n int64) error {
	got, err := io.Copy(dst, io.NewSectionReader(src, off, n))
	if err == nil && got != n {
		err = io.ErrUnexpectedEOF
	}
	return err
}
