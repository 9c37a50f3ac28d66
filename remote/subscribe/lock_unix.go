//go:build unix

package subscribe

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// lockRemote makes this subscriber the only one following remoteName from
// this repository, until release. The lock is the kernel's (flock), so a
// killed subscriber leaves none behind.
func lockRemote(dir, remoteName string) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, remoteName+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("another dx subscribe follows %s from this repository: %w", remoteName, ErrBusy)
		}
		return nil, err
	}
	return func() { f.Close() }, nil
}
