package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
)

func (a *app) catCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cat REV:PATH",
		Short: "Write a file's content at a revision to stdout",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runCat(cmd.Context(), args[0])
		},
	}
}

// runCat writes the content of the file named REV:PATH to stdout.
func (a *app) runCat(ctx context.Context, revPath string) error {
	return a.withRepoRead(ctx, func(r *repo.Repo) error {
		return r.Cat(ctx, revPath, a.stdout)
	})
}
