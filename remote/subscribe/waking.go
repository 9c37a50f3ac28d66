package subscribe

import (
	"context"
	"time"

	"github.com/dxdata/dx/remote"
)

// How a subscriber learns of news. Refs are the truth and events are
// hints: whatever wakes it, a wake reads the followed refs (conditionally,
// so an unchanged ref costs a 304), and the refs are read every
// RefsInterval in any case, so that a lost or late event (a pusher killed
// between its ref and its event, or one whose clock is off) delays a head
// by at most that long and never hides it.

// eventsPrefix is where a push writes one object per ref it moves.
const eventsPrefix = "events/"

// eventWindow is how far back, by this machine's clock, each poll of the
// publish log looks: an event named by a pusher whose clock is off by
// less than this is still seen on the next poll.
const eventWindow = 2 * time.Minute

// notifier is a remote whose server tells of objects created under a
// prefix (the S3 backend on MinIO). Listen returns an error where the
// server does not offer it; the channel then wakes the subscriber on news,
// and once the listener is back after a drop.
type notifier interface {
	Listen(ctx context.Context, prefix string) (<-chan struct{}, error)
}

// eventLister is a remote that lists the keys after a given one (a LIST
// with StartAfter on S3).
type eventLister interface {
	ListAfter(ctx context.Context, prefix, after string) ([]remote.ObjectInfo, error)
}

// waker says when the subscriber wakes: on a notification, on a new
// event found by polling the publish log every interval, on the refs'
// own period, or when a branch's back-off ends.
type waker struct {
	notes     <-chan struct{} // notifications; nil when polling
	notifyErr error           // why notifications are not used, if tried
	lister    eventLister     // the publish log, when polling it
	seen      map[string]bool // events of the window already woken for
	interval  time.Duration   // between polls of the publish log
	refsEvery time.Duration   // between reads of the refs
	refsRead  time.Time       // the last wake, which read them
	retryNow  <-chan struct{} // ends every back-off at once
	retried   bool            // sleep ended on retryNow
}

// takeRetry says whether the last sleep ended on a request to retry now.
func (w *waker) takeRetry() bool {
	r := w.retried
	w.retried = false
	return r
}

// startWaking picks how s wakes: notifications where the remote offers
// them, else polling its publish log, else (a backend that cannot list
// from a key) reading the refs every interval.
func (s *subscriber) startWaking(ctx context.Context) {
	w := &waker{interval: s.o.Interval, refsEvery: s.o.RefsInterval, seen: map[string]bool{}, retryNow: s.o.RetryNow}
	s.waker = w
	if s.o.Once {
		return
	}
	if n, ok := s.be.(notifier); ok && !s.o.Poll {
		notes, err := n.Listen(ctx, eventsPrefix)
		if err == nil {
			w.notes = notes
			return
		}
		w.notifyErr = err
	}
	if l, ok := s.be.(eventLister); ok {
		w.lister = l
		// What is in the log now is older than the first wake, which
		// reads the refs anyway.
		_, _ = w.poll(ctx)
		return
	}
	w.refsEvery = min(w.refsEvery, w.interval)
}

// watching is the start line's event: how the subscriber wakes.
func (w *waker) watching(e Event) Event {
	e.Kind, e.Interval, e.RefsInterval, e.Err = Watching, w.interval, w.refsEvery, w.notifyErr
	switch {
	case w.notes != nil:
		e.Waking = WakeNotified
	case w.lister != nil:
		e.Waking = WakePollEvents
	default:
		e.Waking = WakePollRefs
	}
	return e
}

// woke notes that a wake read the refs.
func (w *waker) woke() { w.refsRead = time.Now() }

// sleep waits for the next wake, or until retryAt (the earliest back-off,
// zero for none). It returns false when ctx is cancelled.
func (w *waker) sleep(ctx context.Context, retryAt time.Time) bool {
	for {
		next := w.refsRead.Add(w.refsEvery)
		if !retryAt.IsZero() && retryAt.Before(next) {
			next = retryAt
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
		case <-w.retryNow:
			t.Stop()
			w.retried = true
			return true
		case <-t.C:
		}
		if !polling {
			return true // the refs' period or a back-off is up
		}
		if news, err := w.poll(ctx); news || err != nil {
			// A failing LIST is a wake too: reading the refs then says
			// what is wrong, with the branches' back-off.
			return ctx.Err() == nil
		}
	}
}

// poll lists the publish log's window and says whether it holds an event
// not seen before.
func (w *waker) poll(ctx context.Context) (bool, error) {
	after := remote.EventKeyAt(time.Now().Add(-eventWindow))
	objs, err := w.lister.ListAfter(ctx, eventsPrefix, after)
	if err != nil {
		return false, err
	}
	news := false
	for key := range w.seen {
		if key <= after {
			delete(w.seen, key)
		}
	}
	for _, o := range objs {
		if !w.seen[o.Key] {
			w.seen[o.Key] = true
			news = true
		}
	}
	return news, nil
}
