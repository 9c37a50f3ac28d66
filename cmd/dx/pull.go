package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
)

// pullOptions are the arguments and flags of dx pull.
type pullOptions struct {
	remote string   // the default remote when empty
	paths  []string // make the repository sparse, or widen it, to these
	asJSON bool
}

func (a *app) pullCmd() *cobra.Command {
	var o pullOptions
	c := &cobra.Command{
		Annotations: bigHeap,
		Use:         "pull [REMOTE] [--path P]…",
		Short:       "Fetch, then merge the remote's copy of the current branch",
		Long: "Fetch, then merge the remote's copy of the current branch (fast-forward when possible).\n" +
			"--path P makes the repository sparse, or widens it: only file content under the sparse\n" +
			"paths is fetched and checked out; everything outside them stays as HEAD has it.",
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.remote = args[0]
			}
			return a.runPull(cmd.Context(), o)
		},
	}
	c.Flags().BoolVar(&o.asJSON, "json", false, "print as JSON")
	c.Flags().StringArrayVar(&o.paths, "path", nil, "fetch and check out only this path (repeatable; makes the repository sparse)")
	return c
}

// runPull fetches, then merges the remote's copy of the current branch;
// like dx merge, it fails after printing the conflicts it stopped on.
func (a *app) runPull(ctx context.Context, o pullOptions) error {
	return a.withRepoFetching(ctx, o.remote, func(r *repo.Repo) error {
		start := time.Now()
		res, err := r.Pull(ctx, o.remote, o.paths)
		if res == nil {
			return err
		}
		if o.asJSON {
			if jerr := a.printJSON(struct {
				Fetch             *repo.FetchResult `json:"fetch"`
				Merge             any               `json:"merge"`
				WrittenAhead      int               `json:"written_ahead"`
				AheadFromDownload int64             `json:"ahead_from_download"`
				AheadFromStore    int64             `json:"ahead_from_store"`
			}{res.Fetch, mergeJSON(orEmpty(res.Merge)), res.WrittenAhead, res.AheadFromDownload, res.AheadFromStore}); jerr != nil {
				return jerr
			}
		} else {
			printFetch(a, res.Fetch, time.Since(start))
			if res.Merge != nil {
				printMerge(a, "remote", "", res.Merge)
			}
		}
		if err == nil && res.Merge != nil && len(res.Merge.Conflicts) > 0 {
			return stoppedOnConflicts{}
		}
		return err
	})
}

// orEmpty is m, or an empty result when the pull merged nothing.
func orEmpty(m *repo.MergeResult) *repo.MergeResult {
	if m == nil {
		return &repo.MergeResult{}
	}
	return m
}
