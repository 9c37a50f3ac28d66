package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
)

// checkoutOptions are the arguments and flags of dx checkout.
type checkoutOptions struct {
	rev          string
	paths        []string // after --, or with --ours|--theirs: only these paths
	force        bool
	asJSON       bool
	ours, theirs bool // restore paths from a side of the merge in progress
}

func (a *app) checkoutCmd() *cobra.Command {
	var o checkoutOptions
	c := &cobra.Command{
		Annotations: bigHeap,
		Use:         "checkout [--force] REV [-- PATH...] | --ours|--theirs PATH...",
		Short:       "Switch the worktree to a revision, or restore paths from it",
		Long: "Switch the worktree to a branch, tag or commit. Local changes the switch would overwrite make it\n" +
			"refuse (naming them) unless --force. With '-- PATH...', restore only those paths and leave HEAD.",
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.ours || o.theirs {
				if o.ours && o.theirs {
					return usageError{errors.New("--ours and --theirs exclude each other")}
				}
				o.paths = args
				return a.runCheckout(cmd.Context(), o)
			}
			o.rev = args[0]
			if dash := cmd.ArgsLenAtDash(); dash >= 0 {
				if dash != 1 {
					return usageError{errors.New("usage: dx checkout REV [-- PATH...]")}
				}
				o.paths = args[1:]
				if len(o.paths) == 0 {
					return usageError{errors.New("no paths after --")}
				}
			} else if len(args) > 1 {
				return usageError{errors.New("usage: dx checkout REV [-- PATH...]")}
			}
			return a.runCheckout(cmd.Context(), o)
		},
	}
	c.Flags().BoolVar(&o.ours, "ours", false, "during a merge: restore PATH... as HEAD has it")
	c.Flags().BoolVar(&o.theirs, "theirs", false, "during a merge: restore PATH... as the merged revision has it")
	c.Flags().BoolVarP(&o.force, "force", "f", false, "discard local changes that would be overwritten")
	c.Flags().BoolVar(&o.asJSON, "json", false, "print the result as JSON")
	return c
}

// runCheckout switches the worktree to o.rev, or restores o.paths from
// it, or from a side of the merge in progress.
func (a *app) runCheckout(ctx context.Context, o checkoutOptions) error {
	return a.withRepo(ctx, func(r *repo.Repo) error {
		rel, err := a.relPaths(r, o.paths)
		if err != nil {
			return err
		}
		if o.ours || o.theirs {
			return a.checkoutSide(ctx, r, o.theirs, rel)
		}
		res, err := r.Checkout(ctx, o.rev, repo.CheckoutOptions{Force: o.force, Paths: rel})
		if err != nil {
			return err
		}
		if id := res.LeftBehind; !id.IsZero() {
			a.warn(fmt.Sprintf("left commit %s behind on no branch; 'dx branch NAME %s' keeps it (gc keeps it %d days)", id.Short(), id.Short(), int(repo.DetachedKeep.Hours()/24)))
		}
		if o.asJSON {
			return a.printJSON(res)
		}
		switch {
		case len(rel) > 0:
			a.printf("Restored %d files from %s\n", res.Written, o.rev)
		case res.Branch != "":
			a.printf("Switched to branch '%s' (%d written, %d removed)\n", res.Branch, res.Written, res.Removed)
		default:
			a.printf("HEAD is now at %s (detached; %d written, %d removed)\n", res.Target.Short(), res.Written, res.Removed)
		}
		return nil
	})
}

// checkoutSide restores paths from one side of the merge in progress and
// marks them resolved.
func (a *app) checkoutSide(ctx context.Context, r *repo.Repo, theirs bool, paths []string) error {
	res, err := r.ResolveWithSide(ctx, theirs, paths)
	if err != nil {
		return fmt.Errorf("checkout --ours/--theirs: %w", err)
	}
	name := "ours"
	if theirs {
		name = "theirs"
	}
	a.printf("Restored %d files from %s (%s), marked resolved\n", res.Written, name, res.Target.Short())
	return nil
}
