//go:build unix

package remote

import (
	"os"

	"golang.org/x/sys/unix"
)

// holdLock takes f's lock as another writer would.
func holdLock(f *os.File) error { return unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) }
