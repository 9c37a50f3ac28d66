//go:build !unix

package remote

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// lock takes the lock file for key (its existence: a killed writer
// leaves it, and its message says so), waiting up to lockWait for another
// writer to let go, and returns its release.
func (b *fileBackend) lock(ctx context.Context, key, lockPath string) (func(), error) {
	deadline := time.Now().Add(b.lockWait)
	for {
		f, err := os.OpenFile(lockPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if err == nil {
			host, _ := os.Hostname()
			fmt.Fprintf(f, "dx pid %d on %s at %s\n", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339))
			f.Close()
			return func() { os.Remove(lockPath) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("remote %s: update %s: lock: %w", b, key, err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("remote %s: %s is locked by %s; if no dx push is running, remove that file", b, key, lockPath)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("remote %s: update %s: %w", b, key, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}
