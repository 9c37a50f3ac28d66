//go:build !linux

package blockread

import (
	"io"
	"os"
)

// Reader reads a file's bytes from aligned blocks read directly (Linux
// only).
type Reader struct{}

// Open returns nil: read the file itself.
func Open(fd int, path string, size, from, room int64, keep int) *Reader { return nil }

// ReadAt is never called on a nil Reader.
func (r *Reader) ReadAt([]byte, int64) (int, error) { return 0, io.EOF }

// Span is never called on a nil Reader.
func (r *Reader) Span(int64, int) ([]byte, func(), error) { return nil, nil, io.EOF }

// Close does nothing.
func (r *Reader) Close() error { return nil }

// Evict syncs f (the page cache is left alone here).
func Evict(f *os.File) error { return f.Sync() }

// Direct reads parts of a cold file straight from the disk (Linux only).
type Direct struct{}

// OpenDirect returns nil: read the file itself.
func OpenDirect(fd int, path string, size int64) *Direct { return nil }

// Read is never called on a nil Direct.
func (d *Direct) Read(buf []byte, off int64, n int) (data, newBuf []byte, err error) {
	return nil, buf, io.EOF
}

// Close does nothing.
func (d *Direct) Close() error { return nil }
