package main

import (
	"fmt"
	"io"

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

func shortID(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func changeLetter(k repo.ChangeKind) string {
	switch k {
	case repo.Added:
		return "A"
	case repo.Deleted:
		return "D"
	case repo.Renamed:
		return "R"
	}
	return "M"
}

// printChangesNUL lists changes as status -z does, for programs: a
// letter, a space and the path, unquoted and ended by a NUL byte; a
// rename's source follows as one more NUL-ended field (git's order).
func printChangesNUL(w io.Writer, cs []repo.Change) {
	for _, c := range cs {
		fmt.Fprintf(w, "%s %s\x00", changeLetter(c.Kind), c.Path)
		if c.Kind == repo.Renamed {
			fmt.Fprintf(w, "%s\x00", c.From)
		}
	}
}

// printNames lists the changed paths, one a line and quoted, or with nul
// unquoted and each ended by a NUL byte.
func printNames(w io.Writer, cs []repo.Change, nul bool) {
	for _, c := range cs {
		if nul {
			fmt.Fprintf(w, "%s\x00", c.Path)
		} else {
			fmt.Fprintln(w, quotePath(c.Path))
		}
	}
}

// printChanges lists changes, one a line.
func printChanges(w io.Writer, cs []repo.Change, short bool) {
	for _, c := range cs {
		name := changeName(c, " -> ")
		if short {
			fmt.Fprintf(w, "%s %s\n", changeLetter(c.Kind), name)
		} else {
			fmt.Fprintf(w, "  %-9s %s\n", string(c.Kind)+":", name)
		}
	}
}
