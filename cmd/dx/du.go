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
		Use:   "du [REMOTE] [--by branch|model] [--json]",
		Short: "Bytes each branch, tag or model holds, exclusively and shared",
		Long: "For each branch and tag (and model, its versions and stages as one), the stored\n" +
			"bytes of everything it reaches, history included: those no other ref reaches\n" +
			"(what deleting it alone would free) and those it shares. Of the local store, or\n" +
			"of REMOTE, read from its indexes and metadata without downloading data.",
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if by != "branch" && by != "model" {
				return usageError{errors.New("--by takes branch or model")}
			}
			remoteName := ""
			if len(args) == 1 {
				remoteName = args[0]
			}
			return a.runDu(cmd.Context(), remoteName, by == "model", asJSON)
		},
	}
	c.Flags().StringVar(&by, "by", "branch", "branch (every ref) or model (the models only)")
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return c
}

func (a *app) runDu(ctx context.Context, remoteName string, byModel, asJSON bool) error {
	return a.withRepo(ctx, func(r *repo.Repo) error {
		rep, err := r.Usage(ctx, remoteName, byModel)
		if err != nil {
			return err
		}
		if asJSON {
			return a.printJSON(rep)
		}
		a.printf("%-40s %10s %10s %10s\n", "REF", "BYTES", "EXCLUSIVE", "SHARED")
		for _, row := range append(rep.Rows, rep.Total) {
			a.printf("%-40s %10s %10s %10s\n", repo.ShortRef(row.Name), humanBytes(row.Bytes), humanBytes(row.Exclusive), humanBytes(row.Shared))
		}
		return nil
	})
}
