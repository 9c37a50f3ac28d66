package subscribe

import (
	"fmt"
	"time"

	"github.com/dxdata/dx/dag"
)

// EventKind says what an Event reports.
type EventKind int

const (
	// Watching: the subscriber started, and how it wakes.
	Watching EventKind = iota
	// Handled: the command succeeded on a new head; the cursor moved.
	Handled
	// Failed: a step failed (the command, or reaching the remote); it is
	// retried after Retry unless the subscriber runs once.
	Failed
	// Stopped: a branch stopped (rewritten on the remote).
	Stopped
)

func (k EventKind) String() string {
	switch k {
	case Watching:
		return "watching"
	case Handled:
		return "handled"
	case Failed:
		return "failed"
	case Stopped:
		return "stopped"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is one thing a subscriber did or met; front ends print it.
type Event struct {
	Kind     EventKind
	Remote   string
	Branch   string
	Old, New dag.ID
	Interval time.Duration // Watching: the time between reads of the refs
	Notified bool          // Watching: bucket notifications wake it too
	Attempt  int           // Failed: how many times in a row
	Retry    time.Duration // Failed: the wait before the next attempt (zero: none)
	Err      error
}

// String is the event as one line.
func (e Event) String() string {
	switch e.Kind {
	case Watching:
		if e.Notified {
			return fmt.Sprintf("subscribe %s: following %v on bucket notifications, reading its refs at least every %s", e.Remote, e.Branch, e.Interval)
		}
		if e.Err != nil {
			return fmt.Sprintf("subscribe %s: following %v by polling its refs every %s (no bucket notifications: %v)", e.Remote, e.Branch, e.Interval, e.Err)
		}
		return fmt.Sprintf("subscribe %s: following %v by polling its refs every %s", e.Remote, e.Branch, e.Interval)
	case Handled:
		return fmt.Sprintf("subscribe %s %s: %s..%s handled", e.Remote, e.Branch, shortOrNothing(e.Old), e.New.Short())
	case Failed:
		if e.Retry > 0 {
			return fmt.Sprintf("subscribe %s %s: %v (attempt %d; retrying in %s)", e.Remote, e.Branch, e.Err, e.Attempt, e.Retry)
		}
		return fmt.Sprintf("subscribe %s %s: %v (attempt %d)", e.Remote, e.Branch, e.Err, e.Attempt)
	case Stopped:
		return fmt.Sprintf("subscribe %s %s: stopped: %v", e.Remote, e.Branch, e.Err)
	}
	return e.Kind.String()
}

// shortOrNothing names a commit, or "nothing" for the zero id (a first
// delta).
func shortOrNothing(id dag.ID) string {
	if id.IsZero() {
		return "nothing"
	}
	return id.Short()
}
