package main

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
)

func (a *app) duCmd() *cobra.Command {
	var by string
	var asJSON bool
	c := &cobra.Command{
		Use:   "du [REMOTE] [--by branch|model|path] [--json]",
		Short: "Bytes each branch, tag, model or path holds, exclusively and shared",
		Long: "For each branch and tag (and model, its versions and stages as one), the stored\n" +
			"bytes of everything it reaches, history included: those no other ref reaches\n" +
			"(what deleting it alone would free) and those it shares. Of the local store, or\n" +
			"of REMOTE, read from its indexes and metadata without downloading data.\n" +
			"--by path: for each file path, the bytes of its contents in every version held,\n" +
			"those under no other path (exclusive) and those another path shares.",
		Args:        args(cobra.MaximumNArgs(1)),
		Annotations: bigHeap,
		RunE: func(cmd *cobra.Command, args []string) error {
			if by != repo.UsageByBranch && by != repo.UsageByModel && by != repo.UsageByPath {
				return usageError{errors.New("--by takes branch, model or path")}
			}
			remoteName := ""
			if len(args) == 1 {
				remoteName = args[0]
			}
			return a.runDu(cmd.Context(), remoteName, by, asJSON)
		},
	}
	c.Flags().StringVar(&by, "by", "branch", "branch (every ref), model (the models only) or path (each file path)")
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return c
}

func (a *app) runDu(ctx context.Context, remoteName, by string, asJSON bool) error {
	return a.withRepo(ctx, func(r *repo.Repo) error {
		rep, err := r.Usage(ctx, remoteName, by)
		if err != nil {
			return err
		}
		if asJSON {
			return a.printJSON(rep)
		}
		head, name := "REF", repo.ShortRef
		if by == repo.UsageByPath {
			head, name = "PATH", func(p string) string { return p }
		}
		a.printf("%-40s %10s %10s %10s\n", head, "BYTES", "EXCLUSIVE", "SHARED")
		for _, row := range rep.Rows {
			a.printf("%-40s %10s %10s %10s\n", quotePath(name(row.Name)), humanBytes(row.Bytes), humanBytes(row.Exclusive), humanBytes(row.Shared))
		}
		a.printf("%-40s %10s %10s %10s\n", "total", humanBytes(rep.Total.Bytes), humanBytes(rep.Total.Exclusive), humanBytes(rep.Total.Shared))
		return nil
	})
}
