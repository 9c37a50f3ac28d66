package main

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/store"
)

// branchOptions are the flags of dx branch; without any, it lists the
// branches or, given NAME [START], creates one.
type branchOptions struct {
	del      bool // delete a branch merged into HEAD
	forceDel bool // delete a branch even if unmerged
	rename   bool
	remotes  bool // list the remote-tracking branches
	asJSON   bool
}

func (a *app) branchCmd() *cobra.Command {
	var o branchOptions
	c := &cobra.Command{
		Use:   "branch [NAME [START]] | -d NAME | -m OLD NEW | -r",
		Short: "List, create, delete or rename branches",
		Args:  args(cobra.MaximumNArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.del || o.forceDel {
				if len(args) != 1 {
					return usageError{errors.New("usage: dx branch -d NAME")}
				}
			} else if o.rename && len(args) != 2 {
				return usageError{errors.New("usage: dx branch -m OLD NEW")}
			}
			return a.runBranch(cmd.Context(), o, args)
		},
	}
	c.Flags().BoolVarP(&o.del, "delete", "d", false, "delete a branch merged into HEAD")
	c.Flags().BoolVarP(&o.forceDel, "force-delete", "D", false, "delete a branch even if unmerged")
	c.Flags().BoolVarP(&o.rename, "move", "m", false, "rename a branch")
	c.Flags().BoolVarP(&o.remotes, "remotes", "r", false, "list remote-tracking branches (REMOTE/BRANCH)")
	c.Flags().BoolVar(&o.asJSON, "json", false, "list as JSON")
	return c
}

// runBranch deletes, renames, creates or lists branches, as o and the
// names in args say.
func (a *app) runBranch(ctx context.Context, o branchOptions, args []string) error {
	access := store.ReadOnly
	if o.del || o.forceDel || o.rename || len(args) > 0 {
		access = store.ReadWrite
	}
	return a.openRepo(ctx, access, func(r *repo.Repo) error {
		switch {
		case o.del || o.forceDel:
			id, err := r.DeleteBranch(ctx, args[0], o.forceDel)
			if err != nil {
				return err
			}
			a.printf("Deleted branch %s (was %s)\n", args[0], id.Short())
		case o.rename:
			if err := r.RenameBranch(ctx, args[0], args[1]); err != nil {
				return err
			}
			a.printf("Renamed branch %s to %s\n", args[0], args[1])
		case len(args) > 0:
			start := ""
			if len(args) == 2 {
				start = args[1]
			}
			id, err := r.CreateBranch(ctx, args[0], start)
			if err != nil {
				return err
			}
			a.printf("Created branch %s at %s\n", args[0], id.Short())
		case o.remotes:
			bs, err := r.RemoteBranches(ctx)
			if err != nil {
				return err
			}
			return a.printRefs(bs, o.asJSON, false)
		default:
			bs, err := r.Branches(ctx)
			if err != nil {
				return err
			}
			return a.printRefs(bs, o.asJSON, true)
		}
		return nil
	})
}
