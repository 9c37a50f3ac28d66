package subscribe

import (
	"io"
	"strings"
)

// state is what the run's lock file says: "", runStarted or runAbandoned.
func (l *runLock) state() (string, error) {
	if _, err := l.f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	b, err := io.ReadAll(io.LimitReader(l.f, 64))
	return strings.TrimSpace(string(b)), err
}

// setState writes the run's state, durably.
func (l *runLock) setState(s string) error {
	if err := l.f.Truncate(0); err != nil {
		return err
	}
	if _, err := l.f.WriteAt([]byte(s+"\n"), 0); err != nil {
		return err
	}
	return l.f.Sync()
}

// release lets go of the lock.
func (l *runLock) release() { l.f.Close() }
