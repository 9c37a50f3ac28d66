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
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK       = 0
	exitError    = 1
	exitUsage    = 2
	exitConflict = 3 // refused: local changes, files in the way or immutable, non-fast-forward, locked
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
	fmt.Fprintln(stderr, "dx: "+oneLine(message(err)))
	return exitCode(err)
}

// message turns an error into what a user reads.
func message(err error) string {
	var lc *repo.LocalChangesError
	switch {
	case errors.As(err, &lc):
		return lc.Error()
	case errors.Is(err, repo.ErrNotRepo):
		return "not a dx repository (or any parent directory); run 'dx init' first"
	case errors.Is(err, store.ErrLocked):
		return "the repository is locked by another dx process; try again when it finishes"
	case errors.Is(err, store.ErrNoSpace):
		return "no space left on device; nothing was lost: free some space and run the command again"
	case errors.Is(err, check.ErrInvalid):
		return err.Error() + " (fix it, or dx commit --no-verify to store it unchecked)"
	case errors.Is(err, context.Canceled):
		return "interrupted; nothing was lost, run the command again"
	}
	return err.Error()
}

func exitCode(err error) int {
	var ue usageError
	switch {
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, repo.ErrLocalChanges), errors.Is(err, repo.ErrNotWritable), errors.Is(err, repo.ErrUnresolved), errors.Is(err, check.ErrInvalid), errors.Is(err, store.ErrLocked), errors.Is(err, store.ErrRefChanged),
		errors.Is(err, remote.ErrNonFastForward):
		return exitConflict
	}
	return exitError
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.ReplaceAll(s, "\n", "; ")
}

type usageError struct{ error }
