package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/internal/synthhistory"
)

// debugHistoryOptions are the arguments and flags of dx debug history.
type debugHistoryOptions struct {
	commits int
	author  string
	path    string
}

func (a *app) debugHistoryCmd() *cobra.Command {
	var o debugHistoryOptions
	c := &cobra.Command{
		Use:   "history N",
		Short: "Append N small commits to the current branch, straight to the store (the worktree is not touched)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.Atoi(args[0])
			if err != nil || n < 1 {
				return usageError{fmt.Errorf("debug history: %q is not a number of commits", args[0])}
			}
			o.commits = n
			return a.runDebugHistory(cmd.Context(), o)
		},
	}
	c.Flags().StringVar(&o.author, "author", "", "author of the commits (default $DX_AUTHOR, else Synthetic <dx@localhost>)")
	c.Flags().StringVar(&o.path, "path", "steps.txt", "the file each commit rewrites")
	return c
}

// runDebugHistory appends o.commits commits "Step N", a second apart and
// ending now (or starting at DX_DATE), each rewriting o.path.
func (a *app) runDebugHistory(ctx context.Context, o debugHistoryOptions) error {
	author := o.author
	if author == "" {
		author = os.Getenv("DX_AUTHOR")
	}
	if author == "" {
		author = "Synthetic <dx@localhost>"
	}
	start := time.Now().Add(-time.Duration(o.commits) * time.Second)
	if v := os.Getenv("DX_DATE"); v != "" {
		t, err := parseDate(v)
		if err != nil {
			return err
		}
		start = t
	}
	return a.withRepo(ctx, func(r *repo.Repo) error {
		head, err := synthhistory.Append(ctx, r.Store, synthhistory.Options{Commits: o.commits, Author: author, Start: start, Path: o.path})
		if err != nil {
			return err
		}
		if !a.quiet {
			fmt.Fprintf(a.stdout, "appended %d commits, the last %s\n", o.commits, head.Short())
		}
		return nil
	})
}
