//go:build unix

package subscribe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

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
	// The holder's pid, for signalSubscriber.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() { f.Close() }, nil
}

// signalSubscriber asks the subscriber following remoteName from this
// repository, if one runs, to retry its failed branches now (SIGUSR1),
// and returns its pid; 0 when none runs.
func signalSubscriber(dir, remoteName string) (int, error) {
	path := filepath.Join(dir, remoteName+".lock")
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err == nil {
		return 0, nil // nobody holds it
	} else if !errors.Is(err, unix.EWOULDBLOCK) {
		return 0, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%s: no subscriber pid in it", path)
	}
	if err := unix.Kill(pid, unix.SIGUSR1); err != nil {
		return 0, fmt.Errorf("signalling the subscriber (pid %d): %w", pid, err)
	}
	return pid, nil
}

// runLock is a run's lock file, held (flock) by whoever acts on the run.
type runLock struct{ f *os.File }

// tryLockRun takes the run's lock if nobody holds it; nil if somebody
// does.
func tryLockRun(path string) (*runLock, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, err
	}
	return &runLock{f: f}, nil
}

// lockRun waits for the run's lock until ctx ends.
func lockRun(ctx context.Context, path string) (*runLock, error) {
	for {
		l, err := tryLockRun(path)
		if err != nil || l != nil {
			return l, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ownProcessGroup starts cmd in a process group of its own: a signal to
// the subscriber's group (Ctrl-C in its terminal) does not reach it.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
