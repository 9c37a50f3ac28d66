package main

import (
	"context"
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
)

// commitOptions are the arguments and flags of dx commit.
type commitOptions struct {
	message    string
	paths      []string // only these; the whole worktree when empty
	allowEmpty bool
	noVerify   bool // store tables unchecked
	asJSON     bool
}

func (a *app) commitCmd() *cobra.Command {
	var o commitOptions
	c := &cobra.Command{
		Annotations: bigHeap,
		Use:         "commit -m MESSAGE [--no-verify] [PATH...]",
		Short:       "Record the worktree (or the given paths) as a new commit",
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.message == "" {
				return usageError{errors.New("commit needs a message: -m MESSAGE")}
			}
			o.paths = args
			return a.runCommit(cmd.Context(), o)
		},
	}
	c.Flags().StringVarP(&o.message, "message", "m", "", "commit message")
	c.Flags().BoolVar(&o.allowEmpty, "allow-empty", false, "commit even if nothing changed")
	c.Flags().BoolVar(&o.noVerify, "no-verify", false, "store tables without checking that they parse and keep keys unique (the commit records it)")
	c.Flags().BoolVar(&o.asJSON, "json", false, "print the result as JSON")
	return c
}

// runCommit records the worktree, or o.paths, as a new commit; with
// nothing to commit it says so and succeeds.
func (a *app) runCommit(ctx context.Context, o commitOptions) error {
	return a.withRepo(ctx, func(r *repo.Repo) error {
		paths, err := a.relPaths(r, o.paths)
		if err != nil {
			return err
		}
		start := time.Now()
		res, err := r.Commit(ctx, repo.CommitOptions{Message: o.message, Paths: paths, AllowEmpty: o.allowEmpty, NoVerify: o.noVerify})
		if errors.Is(err, repo.ErrNothingToCommit) {
			a.printf("nothing to commit, working tree clean\n")
			return nil
		}
		if err != nil {
			return err
		}
		if o.asJSON {
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
		a.printf("[%s %s] %s\n", where, res.ID.Short(), dag.Subject(o.message))
		a.printf(" %d added, %d modified, %d deleted, %d renamed; read %s in %d files (%s)\n",
			added, mod, del, ren, humanBytes(res.BytesRead), res.FilesRead, time.Since(start).Round(time.Millisecond))
		return nil
	})
}
