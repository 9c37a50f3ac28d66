package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/internal/tui"
	"github.com/dxdata/dx/store"
)

// uiOptions are the arguments and flags of dx ui.
type uiOptions struct {
	revs []string
	all  bool // start from every branch, tag and HEAD too
}

func (a *app) uiCmd() *cobra.Command {
	var o uiOptions
	c := &cobra.Command{
		Use:   "ui [REV...]",
		Short: "Browse history in a terminal UI",
		RunE: func(cmd *cobra.Command, args []string) error {
			o.revs = args
			return a.runUI(cmd.Context(), o)
		},
	}
	c.Flags().BoolVar(&o.all, "all", false, "start from every branch, tag and HEAD")
	return c
}

// runUI runs the terminal UI over the history of o.revs (HEAD when none)
// until the user quits. It refuses when stdout is not a terminal. The
// repository is open only while the UI reads (see tui.RepoHistory), so
// that other dx commands can write meanwhile.
func (a *app) runUI(ctx context.Context, o uiOptions) (err error) {
	out, ok := a.stdout.(*os.File)
	if !ok || !term.IsTerminal(int(out.Fd())) {
		return usageError{errors.New("ui needs a terminal: stdout is not one")}
	}
	a.quiet = true // a progress bar would draw over the screen
	// A row diff's drill-down holds its index and offsets, free of
	// pointers and so cheap for the collector to mark, for as long as it
	// is open: a lower target keeps the peak memory near what it holds.
	debug.SetGCPercent(50)
	opts, err := a.repoOptions(store.ReadOnly)
	if err != nil {
		return err
	}
	open := func(ctx context.Context) (*repo.Repo, error) { return repo.Open(ctx, a.dir, opts) }
	r, err := open(ctx)
	if err != nil {
		return err
	}
	revs, err := logStarts(ctx, r, o.revs, o.all)
	if err != nil {
		return errors.Join(err, r.Close())
	}
	history, err := tui.NewRepoHistory(ctx, r, open, revs)
	if err != nil {
		return err
	}
	reads, stopReads := context.WithCancel(ctx)
	defer func() {
		stopReads() // reads still running when the user quit are not waited for
		err = errors.Join(err, history.Close())
	}()
	showing := strings.Join(o.revs, " ")
	if o.all {
		showing = "all refs"
	}
	// y writes its OSC 52 clipboard sequence to the terminal, beside the screen.
	model := tui.New(reads, history, tui.Options{Clipboard: out, Showing: showing})
	p := tea.NewProgram(model, tea.WithAltScreen(), tea.WithOutput(out), tea.WithContext(ctx))
	_, err = p.Run()
	if ctx.Err() != nil {
		return ctx.Err() // a signal stopped it: main reports which
	}
	if err != nil {
		return fmt.Errorf("ui: %w", err)
	}
	return nil
}
