//go:build !unix

package locfile

import (
	"io"
	"os"
)

// mapFile reads size bytes of f into memory, where mapping is not offered.
func mapFile(f *os.File, size int64) ([]byte, func() error, error) {
	b := make([]byte, size)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, nil, err
	}
	return b, func() error { return nil }, nil
}
