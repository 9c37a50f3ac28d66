package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
)

func (a *app) showCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "show [REV]",
		Short: "Show a commit and the files it changed",
		Args:  args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			rev := "HEAD"
			if len(args) == 1 {
				rev = args[0]
			}
			return a.runShow(cmd.Context(), rev, asJSON)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return c
}

// runShow prints a commit and the files it changed.
func (a *app) runShow(ctx context.Context, rev string, asJSON bool) error {
	return a.withRepoRead(ctx, func(r *repo.Repo) error {
		res, err := r.Show(ctx, rev)
		if err != nil {
			return err
		}
		if asJSON {
			if res.Changes == nil {
				res.Changes = []repo.Change{}
			}
			return a.printJSON(res)
		}
		fmt.Fprint(a.stdout, formatLogEntry(res.LogEntry, false))
		printStat(a, res.Changes)
		return nil
	})
}
