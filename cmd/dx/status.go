package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/store"
)

// statusOptions are the flags of dx status.
type statusOptions struct {
	short  bool // one line per change
	nul    bool // like short, for programs: paths unquoted, entries ended by NUL
	asJSON bool
}

func (a *app) statusCmd() *cobra.Command {
	var o statusOptions
	c := &cobra.Command{
		Annotations: bigHeap,
		Use:         "status",
		Short:       "Show what changed in the worktree since HEAD",
		Args:        args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runStatus(cmd.Context(), o)
		},
	}
	c.Flags().BoolVar(&o.asJSON, "json", false, "print as JSON")
	c.Flags().BoolVarP(&o.short, "short", "s", false, "one line per change")
	c.Flags().BoolVarP(&o.nul, "null", "z", false, "like --short, but paths unquoted and each entry ended by a NUL byte")
	return c
}

// runStatus prints the branch, the merge in progress and what changed in
// the worktree since HEAD.
func (a *app) runStatus(ctx context.Context, o statusOptions) error {
	return a.openRepo(ctx, store.ReadCaching, func(r *repo.Repo) error {
		st, err := r.Status(ctx)
		if err != nil {
			return err
		}
		if o.asJSON {
			if st.Changes == nil {
				st.Changes = []repo.Change{}
			}
			return a.printJSON(st)
		}
		if o.nul {
			printChangesNUL(a.stdout, st.Changes)
			return nil
		}
		if !o.short {
			if st.Detached {
				fmt.Fprintf(a.stdout, "HEAD detached at %s\n", shortID(st.Head))
			} else {
				fmt.Fprintf(a.stdout, "On branch %s\n", st.Branch)
			}
			if st.Head == "" {
				fmt.Fprintln(a.stdout, "No commits yet")
			}
			if m := st.Merge; m != nil {
				printMergeState(a.stdout, m)
			}
			if st.Clean() {
				fmt.Fprintln(a.stdout, "nothing to commit, working tree clean")
				return nil
			}
			fmt.Fprintln(a.stdout, "Changes:")
		}
		printChanges(a.stdout, st.Changes, o.short)
		return nil
	})
}
