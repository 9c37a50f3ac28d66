//go:build !unix

package subscribe

import (
	"context"
	"os"
	"os/exec"
)

// lockRemote does nothing where there is no flock: one subscriber per
// remote and repository is then the user's to ensure.
func lockRemote(dir, remoteName string) (release func(), err error) {
	return func() {}, nil
}

// signalSubscriber finds no running subscriber where there is no flock.
func signalSubscriber(dir, remoteName string) (int, error) { return 0, nil }

// runLock is a run's state file; without flock nobody else is kept out.
type runLock struct{ f *os.File }

func tryLockRun(path string) (*runLock, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	return &runLock{f: f}, nil
}

func lockRun(ctx context.Context, path string) (*runLock, error) { return tryLockRun(path) }

// ownProcessGroup does nothing here.
func ownProcessGroup(cmd *exec.Cmd) {}
