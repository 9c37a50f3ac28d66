package main

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/store"
)

// tagOptions are the flags of dx tag; without -d, it lists the tags or,
// given NAME [REV], creates one.
type tagOptions struct {
	del    bool
	asJSON bool
}

func (a *app) tagCmd() *cobra.Command {
	var o tagOptions
	c := &cobra.Command{
		Use:   "tag [NAME [REV]] | -d NAME",
		Short: "List, create or delete tags",
		Args:  args(cobra.MaximumNArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.del && len(args) != 1 {
				return usageError{errors.New("usage: dx tag -d NAME")}
			}
			return a.runTag(cmd.Context(), o, args)
		},
	}
	c.Flags().BoolVarP(&o.del, "delete", "d", false, "delete a tag")
	c.Flags().BoolVar(&o.asJSON, "json", false, "list as JSON")
	return c
}

// runTag deletes the tag args[0] (-d), creates it at the revision
// args[1] (HEAD when absent), or lists the tags when args is empty.
func (a *app) runTag(ctx context.Context, o tagOptions, args []string) error {
	access := store.ReadOnly
	if o.del || len(args) > 0 {
		access = store.ReadWrite
	}
	return a.openRepo(ctx, access, func(r *repo.Repo) error {
		switch {
		case o.del:
			id, err := r.DeleteTag(ctx, args[0])
			if err != nil {
				return err
			}
			a.printf("Deleted tag %s (was %s)\n", args[0], id.Short())
		case len(args) > 0:
			rev := ""
			if len(args) == 2 {
				rev = args[1]
			}
			id, err := r.CreateTag(ctx, args[0], rev)
			if err != nil {
				return err
			}
			a.printf("Tagged %s as %s\n", id.Short(), args[0])
		default:
			ts, err := r.Tags(ctx)
			if err != nil {
				return err
			}
			return a.printRefs(ts, o.asJSON, false)
		}
		return nil
	})
}
