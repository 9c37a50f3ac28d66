package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
)

func (a *app) fetchCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Annotations: bigHeap,
		Use:         "fetch [REMOTE]",
		Short:       "Download a remote's branches, tags and models (only the data missing here)",
		Args:        args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			return a.runFetch(cmd.Context(), name, asJSON)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return c
}

// runFetch fetches from the remote name (the default remote when empty).
func (a *app) runFetch(ctx context.Context, name string, asJSON bool) error {
	return a.withRepoFetching(ctx, name, func(r *repo.Repo) error {
		start := time.Now()
		res, err := r.Fetch(ctx, name)
		if err != nil {
			return err
		}
		if asJSON {
			if res.Refs == nil {
				res.Refs = []repo.RefChange{}
			}
			return a.printJSON(res)
		}
		printFetch(a, res, time.Since(start))
		return nil
	})
}

// printFetch says which refs a fetch (or pull) moved and what it received.
func printFetch(a *app, res *repo.FetchResult, d time.Duration) {
	for _, rc := range res.Refs {
		switch {
		case rc.Note != "":
			a.printf("%s: %s\n", repo.ShortRef(rc.Name), rc.Note)
		case rc.Old.IsZero():
			a.printf("new         %s %s\n", repo.ShortRef(rc.Name), rc.New.Short())
		default:
			a.printf("updated     %s %s..%s\n", repo.ShortRef(rc.Name), rc.Old.Short(), rc.New.Short())
		}
	}
	a.printf("%d objects, %s received in %.1fs\n", res.Objects, humanBytes(res.BytesRead), d.Seconds())
}
