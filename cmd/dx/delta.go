package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/delta"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/store"
)

// deltaOptions are the arguments and flags of dx delta.
type deltaOptions struct {
	model  string // MODEL[@VERSION]
	rev    string // HEAD when empty
	out    string // write the delta into this directory
	format string // rows as csv or jsonl
	stat   bool   // only count the changes
	asJSON bool
}

func (a *app) deltaCmd() *cobra.Command {
	var o deltaOptions
	c := &cobra.Command{
		Annotations: bigHeap,
		Use:         "delta MODEL[@VERSION] [REV] [--out DIR] [--format csv|jsonl]",
		Short:       "What changed in a model's data since it was trained (rows and files)",
		Long: "Compares the data a model version was trained on with REV (default HEAD), limited to\n" +
			"the model's data paths: per table the added, changed (old and new values) and removed\n" +
			"rows, per tree the added, changed and removed files. It reads only the chunks that\n" +
			"differ. Without --out it prints like dx diff --rows; with --out DIR it writes\n" +
			"DIR/delta.json (what changed), DIR/rows/PATH.jsonl|csv (each table's row changes)\n" +
			"and DIR/files/PATH (the new version of every other added or changed file), so a\n" +
			"model can be retrained on just the changes.",
		Args: args(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.format != "" && o.format != "csv" && o.format != "jsonl" {
				return usageError{fmt.Errorf("--format %q: want csv or jsonl", o.format)}
			}
			o.model = args[0]
			if len(args) == 2 {
				o.rev = args[1]
			}
			return a.runDelta(cmd.Context(), o)
		},
	}
	c.Flags().StringVar(&o.out, "out", "", "write the delta into this directory (created; must be empty)")
	c.Flags().StringVar(&o.format, "format", "", "rows as csv or jsonl (default jsonl with --out)")
	c.Flags().BoolVar(&o.asJSON, "json", false, "print as JSON")
	c.Flags().BoolVar(&o.stat, "stat", false, "only count the changes")
	return c
}

// runDelta prints, or with o.out writes, what changed in a model's data
// since it was trained.
func (a *app) runDelta(ctx context.Context, o deltaOptions) error {
	return a.openRepo(ctx, store.ReadCaching, func(r *repo.Repo) error {
		d, err := r.Delta(ctx, o.model, o.rev)
		if err != nil {
			return err
		}
		if o.out == "" {
			var all []repo.TableDiff
			for _, dd := range d.Data {
				all = append(all, dd.Tables...)
			}
			return printRowDiffs(a, all, o.asJSON, o.stat, o.format)
		}
		sources := make([]delta.Source, len(d.Data))
		for i, dd := range d.Data {
			sources[i] = delta.Source{From: dd.From, Tables: dd.Tables}
		}
		sum, err := delta.Write(ctx, r, sources, d.To, delta.Options{Dir: o.out, Format: o.format, Model: d.Model.Name, Version: d.Model.Version})
		if err != nil {
			return err
		}
		if o.asJSON {
			return a.printJSON(sum)
		}
		a.printf("Delta of %s@%d up to %s: %d changed paths written to %s\n", sum.Model, sum.Version, d.To.Short(), len(sum.Files), o.out)
		return nil
	})
}
