package main

import (
	"context"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
)

func (a *app) initCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "init [DIR]",
		Short: "Create an empty repository",
		Args:  args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := ""
			if len(args) == 1 {
				dir = args[0]
			}
			return a.runInit(cmd.Context(), dir)
		},
	}
}

// runInit creates a repository in dir, relative to -C, or in -C itself
// when dir is empty.
func (a *app) runInit(ctx context.Context, dir string) error {
	switch {
	case dir == "":
		dir = a.base()
	case !filepath.IsAbs(dir):
		dir = filepath.Join(a.base(), dir)
	}
	root, err := repo.Init(ctx, dir)
	if err != nil {
		return err
	}
	a.printf("Initialized empty dx repository in %s\n", filepath.Join(root, repo.DirName))
	return nil
}
