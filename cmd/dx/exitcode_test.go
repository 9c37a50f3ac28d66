package main

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/dxdata/dx/internal/check"
	"github.com/dxdata/dx/internal/modelstage"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/remote/gc"
	"github.com/dxdata/dx/remote/replicate"
	"github.com/dxdata/dx/remote/subscribe"
	"github.com/dxdata/dx/store"
)

// TestExitCode: each documented code from the errors that mean it, also
// wrapped; the e2e tests drive the same codes through real situations.
func TestExitCode(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("op: %w", err) }
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"error", errors.New("boom"), exitError},
		{"not a repository", wrap(repo.ErrNotRepo), exitError},
		{"cancelled without a signal", wrap(context.Canceled), exitError},
		{"usage", usageError{errors.New("bad flag")}, exitUsage},
		{"replicate to the same remote", wrap(repo.ErrSameRemote), exitUsage},
		{"profile of a path that is not a table", wrap(repo.ErrNotTable), exitUsage},
		{"drift past a threshold with --fail", wrap(errDrift), exitError},
		{"local changes", wrap(repo.ErrLocalChanges), exitWorktree},
		{"not writable", wrap(repo.ErrNotWritable), exitWorktree},
		{"merge stopped on conflicts", stoppedOnConflicts{}, exitConflicts},
		{"merge --into conflicts", wrap(repo.ErrMergeConflicts), exitConflicts},
		{"--continue unresolved", &repo.UnresolvedError{Paths: []string{"t.csv"}}, exitConflicts},
		{"non-fast-forward", wrap(remote.ErrNonFastForward), exitNotFastForward},
		{"remote compare-and-swap lost", wrap(remote.ErrPrecondition), exitNotFastForward},
		{"ref moved meanwhile", wrap(store.ErrRefChanged), exitNotFastForward},
		{"stage not on the expected version", wrap(modelstage.ErrMoved), exitNotFastForward},
		{"followed branch rewritten", wrap(subscribe.ErrRewritten), exitNotFastForward},
		{"replicated ref diverged", wrap(replicate.ErrDiverged), exitNotFastForward},
		{"subscriber's command failed", wrap(subscribe.ErrCommandFailed), exitError},
		{"locked", wrap(store.ErrLocked), exitLocked},
		{"remote followed by another subscriber", wrap(subscribe.ErrBusy), exitLocked},
		{"another remote collector", wrap(gc.ErrBusy), exitLocked},
		{"a push past the remote's grace", wrap(remote.ErrGCWindow), exitLocked},
		{"invalid table", wrap(&check.Violation{Path: "t.csv", Line: 3, Msg: "duplicate key"}), exitInvalidData},
		{"SIGINT", interruption{syscall.SIGINT}, 130},
		{"SIGTERM", interruption{syscall.SIGTERM}, 143},
	} {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.want)
		}
	}
}
