package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/store"
)

func (a *app) statusCmd() *cobra.Command {
	var asJSON, short, nul bool
	c := &cobra.Command{
		Annotations: bigHeap,
		Use:         "status",
		Short:       "Show what changed in the worktree since HEAD",
		Args:        args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.openRepo(cmd.Context(), store.ReadCaching, func(r *repo.Repo) error {
				st, err := r.Status(cmd.Context())
				if err != nil {
					return err
				}
				if asJSON {
					if st.Changes == nil {
						st.Changes = []repo.Change{}
					}
					return a.printJSON(st)
				}
				if nul {
					printChangesNUL(a.stdout, st.Changes)
					return nil
				}
				if !short {
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
				printChanges(a.stdout, st.Changes, short)
				return nil
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	c.Flags().BoolVarP(&short, "short", "s", false, "one line per change")
	c.Flags().BoolVarP(&nul, "null", "z", false, "like --short, but paths unquoted and each entry ended by a NUL byte")
	return c
}
