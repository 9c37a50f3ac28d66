//go:build !linux

package repo

import "os"

// replaceFile moves the freshly written tmp over p, both inside root.
func replaceFile(root *os.Root, tmp, p string) error { return root.Rename(tmp, p) }
