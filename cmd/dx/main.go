// Command dx versions data the way git versions code. It parses flags,
// calls internal/repo, and prints; all logic lives in the library packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"syscall"

	"github.com/dxdata/dx/internal/check"
	"github.com/dxdata/dx/internal/modelstage"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/internal/termstart"
	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/remote/gc"
	"github.com/dxdata/dx/remote/replicate"
	"github.com/dxdata/dx/remote/subscribe"
	"github.com/dxdata/dx/store"
)

func main() {
	termstart.Restore() // (see internal/termstart)
	ctx, stop := cancelOnSignal(context.Background())
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes, each documented in the README. A script can tell what to do
// next from them: fix the worktree (3), resolve conflicts (4), pull (5),
// wait (6), fix the data (7).
const (
	exitOK             = 0
	exitError          = 1
	exitUsage          = 2
	exitWorktree       = 3   // refused because of the worktree: local changes, files in the way, files not writable
	exitConflicts      = 4   // a merge stopped on conflicts, or --continue found some unresolved
	exitNotFastForward = 5   // a ref moved meanwhile: a push that is not a fast-forward, a lost compare-and-swap, a stage not on the expected version, a followed branch rewritten, a replicated ref diverged
	exitLocked         = 6   // another dx process holds the repository, or follows the same remote
	exitInvalidData    = 7   // data refused by validation: a table that does not parse, lacks its key or repeats it
	exitDamaged        = 8   // the local store holds damaged data: fsck found problems, or a read met an object that fails its check
	exitSignal         = 128 // plus the number of the signal that stopped dx: 130 for SIGINT, 143 for SIGTERM
)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := &app{stdout: stdout, stderr: stderr}
	root := app.rootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	pprof.StopCPUProfile() // no-op unless --cpuprofile started one
	trace.Stop()           // no-op unless --trace started one
	if app.memprofile != "" {
		if f, err := os.Create(app.memprofile); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	if err == nil {
		return exitOK
	}
	// A command a signal stopped fails however it noticed: the signal is
	// what the user needs to know.
	var in interruption
	if errors.As(context.Cause(ctx), &in) {
		err = in
	}
	fmt.Fprintln(stderr, "dx: "+oneLine(message(err)))
	return exitCode(err)
}

// interruption is why a command's context was cancelled: a signal.
type interruption struct{ signal syscall.Signal }

func (in interruption) Error() string { return "stopped by " + in.signal.String() }

// cancelOnSignal returns a context cancelled, with an interruption as its
// cause, by the first SIGINT or SIGTERM; later ones are ignored until stop.
func cancelOnSignal(parent context.Context) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		if s, ok := <-signals; ok {
			cancel(interruption{s.(syscall.Signal)})
		}
	}()
	return ctx, func() { signal.Stop(signals) }
}

// message turns an error into what a user reads.
func message(err error) string {
	var lc *repo.LocalChangesError
	var in interruption
	switch {
	case errors.As(err, &lc):
		return lc.Error()
	case errors.Is(err, repo.ErrNotRepo):
		return "not a dx repository (or any parent directory); run 'dx init' first"
	case errors.Is(err, store.ErrLocked):
		return "the repository is locked by another dx process; try again when it finishes"
	case errors.Is(err, store.ErrNoSpace):
		return "no space left on device; nothing was lost: free some space and run the command again"
	case errors.As(err, new(*repo.UnverifiedPushError)):
		return err.Error() + " (fix it in a new commit, or dx push --no-verify to send it anyway)"
	case errors.Is(err, repo.ErrMergeResult):
		return err.Error() + " (fix it where it was merged from, then merge again)"
	case errors.As(err, new(*check.Violation)):
		return err.Error() + " (fix it, or dx commit --no-verify to store it unchecked)"
	case errors.Is(err, store.ErrCorrupt):
		return err.Error() + " (dx fsck says what is damaged)"
	case errors.As(err, &in):
		if in.signal == syscall.SIGTERM {
			return "terminated; nothing was lost, run the command again"
		}
		return "interrupted; nothing was lost, run the command again"
	}
	return err.Error()
}

// exitCode is the one place errors become exit codes.
func exitCode(err error) int {
	var usage usageError
	var in interruption
	switch {
	case errors.As(err, &usage), errors.Is(err, repo.ErrSameRemote), errors.Is(err, repo.ErrNotTable):
		return exitUsage
	case errors.Is(err, errDrift):
		return exitError
	case errors.As(err, &in):
		return exitSignal + int(in.signal)
	case errors.Is(err, repo.ErrLocalChanges), errors.Is(err, repo.ErrNotWritable):
		return exitWorktree
	case errors.Is(err, repo.ErrMergeConflicts), errors.Is(err, repo.ErrUnresolved):
		return exitConflicts
	case errors.Is(err, remote.ErrNonFastForward), errors.Is(err, remote.ErrPrecondition), errors.Is(err, store.ErrRefChanged),
		errors.Is(err, modelstage.ErrMoved), errors.Is(err, subscribe.ErrRewritten), errors.Is(err, replicate.ErrDiverged):
		return exitNotFastForward
	case errors.Is(err, store.ErrLocked), errors.Is(err, subscribe.ErrBusy), errors.Is(err, gc.ErrBusy), errors.Is(err, remote.ErrGCWindow):
		return exitLocked
	case errors.Is(err, check.ErrInvalid):
		return exitInvalidData
	case errors.Is(err, store.ErrCorrupt), errors.As(err, new(fsckProblems)):
		return exitDamaged
	}
	return exitError
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.ReplaceAll(s, "\n", "; ")
}

type usageError struct{ error }
