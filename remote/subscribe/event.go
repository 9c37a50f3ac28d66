package subscribe

import (
	"fmt"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/remote/wake"
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
	// Retrying: asked to, the subscriber retries its failed branches now.
	Retrying
	// Waiting: the subscriber waits for a command that a killed
	// subscriber started, to take its exit status.
	Waiting
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
	case Retrying:
		return "retrying"
	case Waiting:
		return "waiting"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is one thing a subscriber did or met; front ends print it.
type Event struct {
	Kind     EventKind
	Remote   string
	Branch   string
	Old, New dag.ID
	Waking   wake.Mode     // Watching: what wakes it
	Interval time.Duration // Watching: the time between polls
	// RefsInterval (Watching) is the longest time between reads of the
	// refs.
	RefsInterval time.Duration
	Attempt      int           // Failed: how many times in a row
	Retry        time.Duration // Failed: the wait before the next attempt (zero: none)
	Err          error
}

// String is the event as one line.
func (e Event) String() string {
	switch e.Kind {
	case Watching:
		how := wake.Describe(e.Waking, e.Interval, e.RefsInterval, e.Err)
		return fmt.Sprintf("subscribe %s: following %v %s", e.Remote, e.Branch, how)
	case Handled:
		return fmt.Sprintf("subscribe %s %s: %s..%s handled", e.Remote, e.Branch, shortOrNothing(e.Old), e.New.Short())
	case Failed:
		if e.Attempt == 0 {
			return fmt.Sprintf("subscribe %s %s: %v", e.Remote, e.Branch, e.Err)
		}
		if e.Retry > 0 {
			return fmt.Sprintf("subscribe %s %s: %v (attempt %d; retrying in %s)", e.Remote, e.Branch, e.Err, e.Attempt, e.Retry)
		}
		return fmt.Sprintf("subscribe %s %s: %v (attempt %d)", e.Remote, e.Branch, e.Err, e.Attempt)
	case Stopped:
		return fmt.Sprintf("subscribe %s %s: stopped: %v", e.Remote, e.Branch, e.Err)
	case Retrying:
		return fmt.Sprintf("subscribe %s: retrying the failed branches now, as asked", e.Remote)
	case Waiting:
		return fmt.Sprintf("subscribe %s %s: waiting for the command a killed subscriber started on %s..%s", e.Remote, e.Branch, shortOrNothing(e.Old), e.New.Short())
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
