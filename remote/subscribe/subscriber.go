package subscribe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/remote/wake"
)

// subscriber is one run of Run: the remote it reads, the cursors it keeps
// and the back-off of each branch.
type subscriber struct {
	o       Options
	open    Opener
	remote  string // the remote's resolved name
	be      remote.Backend
	cursors *cursorFile
	// retryAt holds, for a branch whose last step failed, when to try
	// again; stopped holds the branches stopped by a rewrite.
	retryAt map[string]time.Time
	stopped map[string]error
	// refs holds the followed refs as last read, for conditional reads.
	refs  map[string]remote.Ref
	waker *wake.Waker
}

// Run follows o.Branches of o.Remote until ctx is cancelled (or, with
// o.Once, for one wake). A cancelled ctx lets the step under way finish
// (its fetch, its command and its cursor) and then returns nil. It returns
// ErrRewritten when every followed branch has stopped, and with o.Once the
// first error of the wake (a failed command is ErrCommandFailed).
func Run(ctx context.Context, open Opener, o Options) error {
	if err := o.Validate(); err != nil {
		return err
	}
	// A followed stage is one more key of the followed branches.
	for _, m := range o.Models {
		o.Branches = append(o.Branches, ModelKey(m))
	}
	o.Models = nil
	s := &subscriber{o: o, open: open, retryAt: map[string]time.Time{}, stopped: map[string]error{},
		refs: map[string]remote.Ref{}}
	if ok, err := s.openRemote(ctx); !ok {
		return err
	}
	release, err := lockRemote(o.StateDir, s.remote)
	if err != nil {
		return err
	}
	defer release()
	if s.cursors, err = loadCursors(o.StateDir, s.remote); err != nil {
		return err
	}
	if s.cursors.Command != o.Command {
		s.cursors.Command = o.Command
		if err := s.cursors.save(); err != nil {
			return err
		}
	}
	if err := s.adoptRuns(ctx); err != nil {
		return err
	}
	if err := s.startFrom(ctx); err != nil {
		return err
	}
	removeStaleDeltas(o.StateDir, s.remote)
	wakingCtx, stopWaking := context.WithCancel(ctx)
	defer stopWaking()
	if o.Once {
		s.waker = &wake.Waker{} // never sleeps
	} else {
		s.waker = wake.Start(wakingCtx, s.be, wake.Options{Interval: o.Interval, RefsInterval: o.RefsInterval, Poll: o.Poll, Now: o.RetryNow})
	}
	s.report(Event{Kind: Watching, Remote: s.remote, Branch: strings.Join(o.Branches, ", "),
		Waking: s.waker.Mode(), Interval: s.waker.Interval(), RefsInterval: s.waker.RefsInterval(), Err: s.waker.NotifyErr()})
	for {
		first := s.wake(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if o.Once {
			return first
		}
		if len(s.stopped) == len(o.Branches) {
			return first
		}
		if !s.sleep(ctx) {
			return nil
		}
	}
}

// openRemote opens the remote. A long-running subscriber whose remote
// cannot be reached says so and tries again with back-off, until ctx ends
// (false, nil); any other error, or one with Once, is returned.
func (s *subscriber) openRemote(ctx context.Context) (bool, error) {
	for attempt := 1; ; attempt++ {
		err := s.open(ctx, func(r Repo) error {
			var err error
			s.remote, s.be, err = r.OpenRemote(ctx, s.o.Remote)
			return err
		})
		if err == nil {
			return true, nil
		}
		if s.o.Once || !errors.Is(err, remote.ErrUnreachable) || ctx.Err() != nil {
			return false, err
		}
		wait := backoff(attempt)
		s.report(Event{Kind: Failed, Remote: s.o.Remote, Branch: strings.Join(s.o.Branches, ", "), Attempt: attempt, Retry: wait, Err: err})
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false, nil
		case <-t.C:
		}
	}
}

// startFrom gives each followed branch without a cursor the cursor
// o.From names, if any: it then handles only what comes after.
func (s *subscriber) startFrom(ctx context.Context) error {
	if s.o.From == "" {
		return nil
	}
	moved := false
	for _, branch := range s.o.Branches {
		if _, ok := s.cursors.Branches[branch]; ok {
			continue
		}
		from, err := dag.ParseID(s.o.From)
		if s.o.From == "head" {
			var ref remote.Ref
			ref, err = remote.ReadRef(ctx, s.be, refOf(branch))
			from = ref.ID
		}
		if err != nil {
			return fmt.Errorf("subscribe %s %s: --from %s: %w", s.remote, branch, s.o.From, err)
		}
		s.cursors.Branches[branch] = Cursor{Commit: from}
		moved = true
	}
	if !moved {
		return nil
	}
	return s.cursors.save()
}

// wake handles each followed branch once, unless it is stopped or waiting
// out its back-off, and returns the first error met.
func (s *subscriber) wake(ctx context.Context) error {
	s.waker.Woke()
	var first error
	for _, branch := range s.o.Branches {
		if ctx.Err() != nil {
			return first
		}
		if s.stopped[branch] != nil || time.Now().Before(s.retryAt[branch]) {
			continue
		}
		// A signal lets the step finish: its command must not be cut
		// short, nor its cursor left unwritten after a success.
		err := s.step(context.WithoutCancel(ctx), branch)
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

// sleep waits for the next wake, or sooner a branch's back-off. It
// returns false when ctx is cancelled.
func (s *subscriber) sleep(ctx context.Context) bool {
	var retryAt time.Time
	for branch, at := range s.retryAt {
		if s.stopped[branch] == nil && (retryAt.IsZero() || at.Before(retryAt)) {
			retryAt = at
		}
	}
	woken := s.waker.Sleep(ctx, retryAt)
	if s.waker.ByNow() {
		clear(s.retryAt)
		s.report(Event{Kind: Retrying, Remote: s.remote})
	}
	return woken
}

// failed records a failed step of branch: its error in the cursor file
// (the cursor itself stays), its back-off, and a report.
func (s *subscriber) failed(branch string, old, head dag.ID, err error) error {
	c := s.cursors.Branches[branch]
	c.Failures++
	c.LastError = err.Error()
	c.FailedHead = head
	s.cursors.Branches[branch] = c
	if serr := s.cursors.save(); serr != nil {
		err = errors.Join(err, serr)
	}
	ev := Event{Kind: Failed, Remote: s.remote, Branch: branch, Old: old, New: head, Attempt: c.Failures, Err: err}
	if errors.Is(err, ErrRewritten) {
		ev.Kind = Stopped
		s.stopped[branch] = err
	} else if !s.o.Once {
		ev.Retry = backoff(c.Failures)
		s.retryAt[branch] = time.Now().Add(ev.Retry)
	}
	if !s.o.Once {
		// With Once the error is returned, and said by the caller.
		s.report(ev)
	}
	return fmt.Errorf("subscribe %s %s: %w", s.remote, branch, err)
}

// backoff is the wait before attempt n+1 after n failures in a row:
// doubling from a second, at most maxBackoff.
func backoff(failures int) time.Duration {
	d := time.Second
	for i := 1; i < failures && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

func (s *subscriber) report(e Event) {
	if s.o.Report != nil {
		s.o.Report(e)
	}
}

// deltaPrefix names the directories of a remote's deltas in preparation
// or in use.
func deltaPrefix(remoteName string) string { return "delta-" + remoteName + "-" }

// runDir makes the directory a run's command is handed (its delta or
// artifact), removed after the run; a subscriber killed meanwhile leaves
// it to removeStaleDeltas.
func (s *subscriber) runDir() (string, error) {
	if err := os.MkdirAll(s.o.StateDir, 0o755); err != nil {
		return "", err
	}
	return os.MkdirTemp(s.o.StateDir, deltaPrefix(s.remote))
}

// removeStaleDeltas removes the delta directories of remoteName that a
// killed subscriber left behind.
func removeStaleDeltas(dir, remoteName string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), deltaPrefix(remoteName)) {
			_ = os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}
