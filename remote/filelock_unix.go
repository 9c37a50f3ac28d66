//go:build unix

package remote

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// lock takes the lock file for key, waiting up to lockWait for another
// writer to let go, and returns its release. The lock is the kernel's
// (flock), so a writer killed while it held it leaves none behind; the
// holder removes the file before it lets go, so a waiter that locked a
// file since removed tries again.
func (b *fileBackend) lock(ctx context.Context, key, lockPath string) (func(), error) {
	deadline := time.Now().Add(b.lockWait)
	for {
		f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o666)
		if err != nil {
			return nil, fmt.Errorf("remote %s: update %s: lock: %w", b, key, err)
		}
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			held, herr := f.Stat()
			now, nerr := os.Stat(lockPath)
			if herr == nil && nerr == nil && os.SameFile(held, now) {
				host, _ := os.Hostname()
				_ = f.Truncate(0)
				fmt.Fprintf(f, "dx pid %d on %s at %s\n", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339))
				return func() { os.Remove(lockPath); f.Close() }, nil
			}
			f.Close()
			continue
		}
		f.Close()
		if !errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("remote %s: update %s: lock: %w", b, key, err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("remote %s: %s is locked by another dx (see %s): try again when it finishes", b, key, lockPath)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("remote %s: update %s: %w", b, key, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}
