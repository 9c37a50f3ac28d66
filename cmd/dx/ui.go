package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/internal/tui"
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
// until the user quits. It refuses when stdout is not a terminal.
func (a *app) runUI(ctx context.Context, o uiOptions) error {
	out, ok := a.stdout.(*os.File)
	if !ok || !term.IsTerminal(int(out.Fd())) {
		return usageError{errors.New("ui needs a terminal: stdout is not one")}
	}
	a.quiet = true // a progress bar would draw over the screen
	return a.withRepoRead(ctx, func(r *repo.Repo) error {
		revs, err := logStarts(ctx, r, o.revs, o.all)
		if err != nil {
			return err
		}
		history, err := tui.RepoHistory(ctx, r, revs)
		if err != nil {
			return err
		}
		p := tea.NewProgram(tui.New(ctx, history, tui.Options{}), tea.WithAltScreen(), tea.WithOutput(out), tea.WithContext(ctx))
		_, err = p.Run()
		if ctx.Err() != nil {
			return ctx.Err() // a signal stopped it: main reports which
		}
		if err != nil {
			return fmt.Errorf("ui: %w", err)
		}
		return nil
	})
}
