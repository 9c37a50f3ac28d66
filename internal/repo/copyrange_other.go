//go:build !linux

package repo

import "os"

// copyRange copies n bytes of src from offset off to dst at its offset.
func copyRange(dst, src *os.File, off, n int64) error { return copyRangeFallback(dst, src, off, n) }

// willRead tells the system that f's first n bytes will be read soon.
func willRead(f *os.File, n int64) {}
