//go:build !linux

package store

import "os"

const oDirect = 0

// willNeed starts reading n bytes of f at off (a hint; none here).
func willNeed(f *os.File, off, n int64) {}
