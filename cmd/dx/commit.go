package main

import (
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
)

func (a *app) commitCmd() *cobra.Command {
	var msg string
	var allowEmpty, noVerify, asJSON bool
	c := &cobra.Command{
		Annotations: bigHeap,
		Use:         "commit -m MESSAGE [--no-verify] [PATH...]",
		Short:       "Record the worktree (or the given paths) as a new commit",
		RunE: func(cmd *cobra.Command, args []string) error {
			if msg == "" {
				return usageError{errors.New("commit needs a message: -m MESSAGE")}
			}
			return a.withRepo(cmd.Context(), func(r *repo.Repo) error {
				paths, err := a.relPaths(r, args)
				if err != nil {
					return err
				}
				start := time.Now()
				res, err := r.Commit(cmd.Context(), repo.CommitOptions{Message: msg, Paths: paths, AllowEmpty: allowEmpty, NoVerify: noVerify})
				if errors.Is(err, repo.ErrNothingToCommit) {
					a.printf("nothing to commit, working tree clean\n")
					return nil
				}
				if err != nil {
					return err
				}
				if asJSON {
					return a.printJSON(res)
				}
				where := res.Branch
				if where == "" {
					where = "detached HEAD"
				}
				var added, mod, del, ren int
				for _, c := range res.Changes {
					switch c.Kind {
					case repo.Added:
						added++
					case repo.Modified:
						mod++
					case repo.Deleted:
						del++
					case repo.Renamed:
						ren++
					}
				}
				a.printf("[%s %s] %s\n", where, res.ID.Short(), dag.Subject(msg))
				a.printf(" %d added, %d modified, %d deleted, %d renamed; read %s in %d files (%s)\n",
					added, mod, del, ren, humanBytes(res.BytesRead), res.FilesRead, time.Since(start).Round(time.Millisecond))
				return nil
			})
		},
	}
	c.Flags().StringVarP(&msg, "message", "m", "", "commit message")
	c.Flags().BoolVar(&allowEmpty, "allow-empty", false, "commit even if nothing changed")
	c.Flags().BoolVar(&noVerify, "no-verify", false, "store tables without checking that they parse and keep keys unique (the commit records it)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return c
}
