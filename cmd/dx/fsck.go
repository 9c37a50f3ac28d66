package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
)

// fsckOptions are the flags of dx fsck.
type fsckOptions struct {
	full   bool // also hash every pack and read every reachable chunk
	asJSON bool
}

func (a *app) fsckCmd() *cobra.Command {
	var o fsckOptions
	c := &cobra.Command{
		Use:   "fsck",
		Short: "Verify the store: packs, index, and everything reachable from refs",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runFsck(cmd.Context(), o)
		},
	}
	c.Flags().BoolVar(&o.full, "full", false, "also hash every pack and read every reachable chunk")
	c.Flags().BoolVar(&o.asJSON, "json", false, "print the report as JSON")
	return c
}

// runFsck verifies the store, prints its report, and fails when it found
// problems.
func (a *app) runFsck(ctx context.Context, o fsckOptions) error {
	return a.withRepoRead(ctx, func(r *repo.Repo) error {
		rep, err := r.Fsck(ctx, o.full)
		if err != nil {
			return err
		}
		if o.asJSON {
			if err := a.printJSON(rep); err != nil {
				return err
			}
		} else {
			for _, p := range rep.Problems {
				fmt.Fprintln(a.stdout, "error: "+p)
			}
			if !a.quiet {
				for _, n := range rep.Notes {
					fmt.Fprintln(a.stdout, "note: "+n)
				}
			}
			absent := ""
			if rep.Absent > 0 {
				absent = fmt.Sprintf("; %d not fetched (sparse repository)", rep.Absent)
			}
			if rep.Shallow > 0 {
				absent += fmt.Sprintf("; history cut below %d shallow commits", rep.Shallow)
			}
			a.printf("checked %d packs, %d objects (%d reachable%s): %s\n", rep.Packs, rep.Objects, rep.Reachable, absent, map[bool]string{true: "ok", false: "PROBLEMS FOUND"}[rep.OK()])
		}
		if !rep.OK() {
			return fmt.Errorf("fsck found %d problems", len(rep.Problems))
		}
		return nil
	})
}
