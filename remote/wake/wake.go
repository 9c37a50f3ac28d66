// Package wake says when a follower of a remote (a subscriber, a
// replicator) looks at it again. Refs are the truth and events are hints:
// whatever wakes the follower, it reads the refs it follows (cheaply, a
// conditional GET), and it wakes every RefsInterval in any case, so that
// a lost or late event (a pusher killed between its ref and its event, or
// one whose clock is off) delays a head by at most that long and never
// hides it.
//
// A follower wakes on MinIO's bucket notifications on the remote's
// events/ where the server offers them, else when a poll of events/ every
// Interval (one LIST from a key) finds a new event, and on its refs'
// period; a caller may also end a sleep early (a back-off that ends, a
// request to retry now).
package wake

import (
	"context"
	"fmt"
	"time"

	"github.com/dxdata/dx/remote"
)

// eventsPrefix is where a push writes one object per ref it moves.
const eventsPrefix = "events/"

// EventWindow is how far back, by this machine's clock, each poll of the
// publish log looks: an event named by a pusher whose clock is off by
// less than this is still seen on the next poll.
const EventWindow = 2 * time.Minute

// Defaults of Options.
const (
	DefaultInterval     = time.Second
	DefaultRefsInterval = 30 * time.Second
)

// notifier is a remote whose server tells of objects created under a
// prefix (the S3 backend on MinIO). Listen returns an error where the
// server does not offer it; the channel then wakes the follower on news,
// and once the listener is back after a drop.
type notifier interface {
	Listen(ctx context.Context, prefix string) (<-chan struct{}, error)
}

// eventLister is a remote that lists the keys after a given one (a LIST
// with StartAfter on S3).
type eventLister interface {
	ListAfter(ctx context.Context, prefix, after string) ([]remote.ObjectInfo, error)
}

// Mode is how a follower learns of news.
type Mode int

const (
	// PollRefs: it reads the refs every RefsInterval (a remote that
	// cannot list its publish log from a key).
	PollRefs Mode = iota
	// PollEvents: it lists the publish log every Interval.
	PollEvents
	// Notified: the server's bucket notifications wake it.
	Notified
)

// Options configure a Waker.
type Options struct {
	Interval     time.Duration // between polls of events/; DefaultInterval when zero
	RefsInterval time.Duration // the longest time between two wakes; DefaultRefsInterval when zero
	Poll         bool          // poll events/ even where notifications are offered
	// Now, when it receives, ends a sleep at once (a request to retry).
	Now <-chan struct{}
}

// Waker is one follower's schedule.
type Waker struct {
	notes     <-chan struct{} // notifications; nil when polling
	notifyErr error           // why notifications are not used, if tried
	lister    eventLister     // the publish log, when polling it
	seen      map[string]bool // events of the window already woken for
	interval  time.Duration
	refsEvery time.Duration
	woke      time.Time // the last wake
	now       <-chan struct{}
	byNow     bool // the last sleep ended on Now
}

// Start picks how a follower of be wakes: notifications where the remote
// offers them (they stay open until ctx ends), else polling its publish
// log, else waking every interval.
func Start(ctx context.Context, be remote.Backend, o Options) *Waker {
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.RefsInterval == 0 {
		o.RefsInterval = DefaultRefsInterval
	}
	w := &Waker{interval: o.Interval, refsEvery: o.RefsInterval, seen: map[string]bool{}, now: o.Now}
	if n, ok := be.(notifier); ok && !o.Poll {
		notes, err := n.Listen(ctx, eventsPrefix)
		if err == nil {
			w.notes = notes
			return w
		}
		w.notifyErr = err
	}
	if l, ok := be.(eventLister); ok {
		w.lister = l
		// What is in the log now is older than the first wake, which
		// reads the refs anyway.
		_, _ = w.poll(ctx)
		return w
	}
	w.refsEvery = min(w.refsEvery, w.interval)
	return w
}

// Mode says how the follower wakes, and NotifyErr why notifications are
// not used, if they were tried.
func (w *Waker) Mode() Mode {
	switch {
	case w.notes != nil:
		return Notified
	case w.lister != nil:
		return PollEvents
	}
	return PollRefs
}

// NotifyErr is why notifications are not used, if they were tried.
func (w *Waker) NotifyErr() error { return w.notifyErr }

// Interval is the time between polls; RefsInterval the longest time
// between wakes.
func (w *Waker) Interval() time.Duration     { return w.interval }
func (w *Waker) RefsInterval() time.Duration { return w.refsEvery }

// Woke notes that the follower has just read the refs.
func (w *Waker) Woke() { w.woke = time.Now() }

// ByNow says whether the last sleep ended on Options.Now.
func (w *Waker) ByNow() bool {
	r := w.byNow
	w.byNow = false
	return r
}

// Sleep waits for the next wake, or until until (zero for none). It
// returns false when ctx is cancelled.
func (w *Waker) Sleep(ctx context.Context, until time.Time) bool {
	for {
		next := w.woke.Add(w.refsEvery)
		if !until.IsZero() && until.Before(next) {
			next = until
		}
		wait := max(time.Until(next), 0)
		polling := w.lister != nil && w.interval < wait
		if polling {
			wait = w.interval
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-w.notes: // nil, never ready, when polling
			t.Stop()
			return true
		case <-w.now:
			t.Stop()
			w.byNow = true
			return true
		case <-t.C:
		}
		if !polling {
			return true // the refs' period or until is up
		}
		if news, err := w.poll(ctx); news || err != nil {
			// A failing LIST is a wake too: reading the refs then says
			// what is wrong.
			return ctx.Err() == nil
		}
	}
}

// poll lists the publish log's window and says whether it holds an event
// not seen before.
func (w *Waker) poll(ctx context.Context) (bool, error) {
	after := remote.EventKeyAt(time.Now().Add(-EventWindow))
	objs, err := w.lister.ListAfter(ctx, eventsPrefix, after)
	if err != nil {
		return false, err
	}
	for key := range w.seen {
		if key <= after {
			delete(w.seen, key)
		}
	}
	news := false
	for _, o := range objs {
		if !w.seen[o.Key] {
			w.seen[o.Key] = true
			news = true
		}
	}
	return news, nil
}

// Describe says in a few words how a follower wakes (its start line).
func Describe(m Mode, interval, refsInterval time.Duration, notifyErr error) string {
	var how string
	switch m {
	case Notified:
		how = fmt.Sprintf("on bucket notifications, reading its refs at least every %s", refsInterval)
	case PollEvents:
		how = fmt.Sprintf("by polling events/ every %s, reading its refs at least every %s", interval, refsInterval)
	default:
		how = fmt.Sprintf("by polling its refs every %s", refsInterval)
	}
	if notifyErr != nil {
		how += fmt.Sprintf(" (no bucket notifications: %v)", notifyErr)
	}
	return how
}

// String is Describe of w.
func (w *Waker) String() string {
	return Describe(w.Mode(), w.interval, w.refsEvery, w.notifyErr)
}
