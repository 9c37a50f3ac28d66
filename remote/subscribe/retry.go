package subscribe

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

// ErrNothingToRetry: --retry found no branch whose last step failed.
var ErrNothingToRetry = errors.New("nothing to retry: no followed branch has a failure recorded")

// Retry re-runs, now, the failed deltas of o.Remote (of o.Branches, or of
// every branch with a failure recorded). When a subscriber of that remote
// runs in this repository, it is asked to (SIGUSR1 on Unix) and Retry
// returns its pid; otherwise Retry handles them itself, once, with
// o.Command or else the command the last subscriber ran, and returns 0.
func Retry(ctx context.Context, open Opener, o Options) (pid int, err error) {
	var name string
	if err := open(ctx, func(r Repo) error {
		var err error
		name, _, err = r.OpenRemote(ctx, o.Remote)
		return err
	}); err != nil {
		return 0, err
	}
	if pid, err := signalSubscriber(o.StateDir, name); err != nil || pid != 0 {
		return pid, err
	}
	cursors, err := loadCursors(o.StateDir, name)
	if err != nil {
		return 0, err
	}
	failed := map[string]bool{}
	for branch, c := range cursors.Branches {
		if c.Failures > 0 {
			failed[branch] = true
		}
	}
	if len(o.Branches) == 0 {
		for branch := range failed {
			o.Branches = append(o.Branches, branch)
		}
		sort.Strings(o.Branches)
	}
	for _, branch := range o.Branches {
		if !failed[branch] {
			return 0, fmt.Errorf("subscribe %s %s: %w", name, branch, ErrNothingToRetry)
		}
	}
	if len(o.Branches) == 0 {
		return 0, fmt.Errorf("subscribe %s: %w", name, ErrNothingToRetry)
	}
	if o.Command == "" {
		o.Command = cursors.Command
	}
	if o.Command == "" {
		return 0, fmt.Errorf("subscribe %s: no command recorded: give --exec CMD", name)
	}
	o.Remote, o.Once = name, true
	return 0, Run(ctx, open, o)
}
