package replicate

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/remote/wake"
)

// maxWatchBackoff bounds the wait before a failed pass is tried again.
const maxWatchBackoff = 5 * time.Minute

// WatchEvent is one thing a watching replicator did or met.
type WatchEvent struct {
	// Waker is set once, at start: how it learns of new heads.
	Waker *wake.Waker
	// Result is a pass that moved or newly found diverged refs.
	Result *Result
	// Err is a failed pass, retried after Retry.
	Err   error
	Retry time.Duration
}

// Watch replicates src to dst as src's refs move: one pass at start, then
// one each time the waker wakes (a notification or a new event on src, or
// its refs' period). A pass with nothing new costs what Replicate's does
// (the refs of both sides). A failed pass is reported and tried again with
// back-off (doubling from a second, at most 5 minutes); a diverged ref is
// reported when it first diverges and left as it is, while the others
// keep moving. Watch returns nil when ctx is cancelled, after the pass
// under way.
func Watch(ctx context.Context, src, dst remote.Backend, o Options, wo wake.Options, report func(WatchEvent)) error {
	if err := o.Validate(); err != nil {
		return err
	}
	wakingCtx, stop := context.WithCancel(ctx)
	defer stop()
	w := wake.Start(wakingCtx, src, wo)
	report(WatchEvent{Waker: w})
	var failures int
	var retryAt time.Time
	var divergedBefore []string
	for {
		w.Woke()
		// A signal lets the pass under way finish: refs are swapped last,
		// and a pass cut short is safe but wasted.
		res, err := Replicate(context.WithoutCancel(ctx), src, dst, o)
		switch {
		case err != nil && !errors.Is(err, ErrDiverged):
			failures++
			wait := min(time.Second<<min(failures-1, 10), maxWatchBackoff)
			retryAt = time.Now().Add(wait)
			report(WatchEvent{Err: err, Retry: wait})
		default:
			failures, retryAt = 0, time.Time{}
			div := divergedNames(res)
			if moved(res) || !slices.Equal(div, divergedBefore) {
				report(WatchEvent{Result: res})
			}
			divergedBefore = div
		}
		if ctx.Err() != nil || !w.Sleep(ctx, retryAt) {
			return nil
		}
	}
}

// moved says whether a pass created, moved or deleted any ref.
func moved(res *Result) bool {
	for _, r := range res.Refs {
		if r.Status == Created || r.Status == Updated || r.Status == Deleted {
			return true
		}
	}
	return false
}

// divergedNames lists the refs a pass found diverged, with their values.
func divergedNames(res *Result) []string {
	var out []string
	for _, r := range res.Refs {
		if r.Status == Diverged {
			out = append(out, strings.Join([]string{r.Name, r.Old.String(), r.New.String()}, " "))
		}
	}
	return out
}
