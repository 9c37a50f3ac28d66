//go:build !linux

package repo

import "os"

// willNeed starts reading n bytes of f at off (a hint; none here).
func willNeed(f *os.File, off, n int64) {}
