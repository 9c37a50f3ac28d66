package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
)

// gcOptions are the flags of dx gc.
type gcOptions struct {
	prune  bool // delete; without it, only report
	asJSON bool
}

func (a *app) gcCmd() *cobra.Command {
	var o gcOptions
	c := &cobra.Command{
		Use:   "gc [--prune]",
		Short: "Remove data no ref can reach (reports only, unless --prune)",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runGC(cmd.Context(), o)
		},
	}
	c.Flags().BoolVar(&o.prune, "prune", false, "actually delete unreachable data")
	c.Flags().BoolVar(&o.asJSON, "json", false, "print the report as JSON")
	return c
}

// runGC reports, or with o.prune removes, the data no ref can reach.
func (a *app) runGC(ctx context.Context, o gcOptions) error {
	return a.withRepo(ctx, func(r *repo.Repo) error {
		rep, err := r.GC(ctx, !o.prune)
		if err != nil {
			return err
		}
		if o.asJSON {
			return a.printJSON(rep)
		}
		verb := "removed"
		if !o.prune {
			verb = "would remove"
		}
		a.printf("%s %d unreachable objects and %d leftover files, freeing %s (%d packs deleted, %d rewritten)\n",
			verb, rep.Unreachable, rep.OrphansRemoved, humanBytes(rep.FreedBytes), rep.PacksDeleted, rep.PacksRewritten)
		if !o.prune && (rep.Unreachable > 0 || rep.OrphansRemoved > 0) {
			a.printf("run 'dx gc --prune' to remove them\n")
		}
		return nil
	})
}
