package main

import (
	"context"
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/remote"
)

func (a *app) pushCmd() *cobra.Command {
	var o repo.PushOptions
	var asJSON bool
	var del string
	c := &cobra.Command{
		Use:   "push [REMOTE] [BRANCH|TAG…] [--all] [--force] | push REMOTE --delete BRANCH",
		Short: "Send branches to a remote (only the data it lacks)",
		Long: "Uploads the objects the remote lacks, packed, then moves each remote branch by\n" +
			"compare-and-swap. A branch that moved on the remote meanwhile is rejected\n" +
			"(non-fast-forward: pull first) unless --force.",
		Args: args(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				o.Remote, o.Refs = args[0], args[1:]
			}
			if o.All && len(o.Refs) > 0 {
				return usageError{errors.New("--all and branch names exclude each other")}
			}
			if del != "" {
				if o.All || len(o.Refs) > 0 {
					return usageError{errors.New("--delete takes one branch and nothing else to push")}
				}
				return a.runPushDelete(cmd.Context(), o.Remote, del, asJSON)
			}
			return a.runPush(cmd.Context(), o, asJSON)
		},
	}
	c.Flags().BoolVar(&o.All, "all", false, "push every branch, tag and model")
	c.Flags().BoolVarP(&o.Force, "force", "f", false, "allow updates that drop remote commits")
	c.Flags().IntVarP(&o.Jobs, "jobs", "j", 0, "parallel pack uploads (default 4)")
	c.Flags().BoolVar(&o.NoVerify, "no-verify", false, "send commits made with --no-verify without checking their tables and data contract")
	c.Flags().StringVar(&del, "delete", "", "delete BRANCH on the remote (compare-and-swap); its data goes with dx gc --remote")
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return c
}

// runPushDelete deletes a remote branch.
func (a *app) runPushDelete(ctx context.Context, remoteName, branch string, asJSON bool) error {
	return a.withRepo(ctx, func(r *repo.Repo) error {
		rc, err := r.DeleteRemoteBranch(ctx, remoteName, branch)
		if err != nil {
			return err
		}
		if asJSON {
			return a.printJSON(refJSON{Name: rc.Name, Old: rc.Old.String(), Status: "deleted"})
		}
		a.printf("deleted     %s (was %s)\n", repo.ShortRef(rc.Name), rc.Old.Short())
		return nil
	})
}

// runPush pushes and prints what became of each ref, also when some were
// rejected.
func (a *app) runPush(ctx context.Context, o repo.PushOptions, asJSON bool) error {
	return a.withRepo(ctx, func(r *repo.Repo) error {
		start := time.Now()
		res, err := r.Push(ctx, o)
		if res != nil {
			if asJSON {
				if jerr := a.printJSON(pushJSON(res, time.Since(start))); jerr != nil {
					return jerr
				}
			} else {
				for _, rr := range res.Refs {
					a.printf("%-11s %s %s..%s\n", rr.Status, repo.ShortRef(rr.Name), rr.Old.Short(), rr.New.Short())
				}
				a.printf("%d objects in %d packs, %s sent in %.1fs\n", res.Objects, res.Packs, humanBytes(res.BytesSent), time.Since(start).Seconds())
			}
		}
		return err
	})
}

// refJSON is one ref of `dx push --json`.
type refJSON struct {
	Name   string `json:"name"`
	Old    string `json:"old,omitempty"`
	New    string `json:"new"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// pushJSON is what `dx push --json` prints.
func pushJSON(res *remote.PushResult, d time.Duration) any {
	refs := []refJSON{}
	for _, rr := range res.Refs {
		j := refJSON{Name: rr.Name, New: rr.New.String(), Status: rr.Status}
		if !rr.Old.IsZero() {
			j.Old = rr.Old.String()
		}
		if rr.Err != nil {
			j.Error = rr.Err.Error()
		}
		refs = append(refs, j)
	}
	return struct {
		*remote.PushResult
		Refs    []refJSON `json:"refs"`
		Seconds float64   `json:"seconds"`
	}{res, refs, d.Seconds()}
}
