package main

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/store"
)

// errDrift: dx drift --fail found a column past a threshold.
var errDrift = errors.New("drift past a threshold")

type driftOptions struct {
	asJSON bool
	fail   bool
}

func (a *app) driftCmd() *cobra.Command {
	var o driftOptions
	c := &cobra.Command{
		Use:   "drift A B [PATH...] | drift MODEL@VERSION",
		Short: "How each column of the tables moved between two versions (PSI, KS, nulls, distinct, top values)",
		Long: "Compares the tables of revisions A and B (those under PATHs, if given) column by\n" +
			"column: PSI over A's deciles (numbers) or A's most frequent values, the\n" +
			"Kolmogorov-Smirnov distance from the two quantile sketches (numbers), and the change\n" +
			"in null share, distinct count and top values. A column past a threshold of B's data\n" +
			"contract (drift: {psi, ks, nulls}; default psi 0.2, ks 0.1, nulls 0.05) is flagged;\n" +
			"--fail then exits 1. With MODEL@VERSION, compares the data the model was trained on\n" +
			"with HEAD. Profiles come from the index (see dx profile).",
		Annotations: bigHeap,
		Args:        args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runDrift(cmd.Context(), args, o)
		},
	}
	c.Flags().BoolVar(&o.asJSON, "json", false, "print the report as JSON")
	c.Flags().BoolVar(&o.fail, "fail", false, "exit 1 when a column drifted past a threshold")
	return c
}

func (a *app) runDrift(ctx context.Context, args []string, o driftOptions) error {
	debug.SetGCPercent(profileGCPercent)
	return a.openRepo(ctx, store.ReadCaching, func(r *repo.Repo) error {
		var rep *repo.DriftReport
		var err error
		if len(args) == 1 {
			if !strings.Contains(args[0], "@") {
				return usageError{fmt.Errorf("drift %s: want two revisions, or MODEL@VERSION", args[0])}
			}
			rep, err = r.ModelDrift(ctx, args[0])
		} else {
			rep, err = r.Drift(ctx, args[0], args[1], args[2:])
		}
		if err != nil {
			return err
		}
		if o.asJSON {
			err = a.printJSON(rep)
		} else {
			a.printDrift(rep)
		}
		if err == nil && o.fail && rep.Breached {
			n := 0
			for _, t := range rep.Tables {
				for _, c := range t.Columns {
					if len(c.Breaches) > 0 {
						n++
					}
				}
			}
			return fmt.Errorf("%w: %d column(s)", errDrift, n)
		}
		return err
	})
}

// printDrift prints a line a column: its figures, and what it breached.
func (a *app) printDrift(rep *repo.DriftReport) {
	for _, t := range rep.Tables {
		if t.Status == "added" || t.Status == "removed" {
			fmt.Fprintf(a.stdout, "%s: %s\n", quotePath(t.Path), t.Status)
			continue
		}
		fmt.Fprintf(a.stdout, "%s: %d → %d rows\n", quotePath(t.Path), t.RowsA, t.RowsB)
		for _, c := range t.Columns {
			if c.Status != "" {
				fmt.Fprintf(a.stdout, "  %-16s %s\n", c.Name, c.Status)
				continue
			}
			line := fmt.Sprintf("  %-16s psi %s", c.Name, numPtr(c.PSI))
			if c.PSI == nil {
				line = fmt.Sprintf("  %-16s psi -", c.Name)
			}
			if c.KS != nil {
				line += "  ks " + num(*c.KS)
			}
			line += fmt.Sprintf("  nulls %+.3f  distinct %+d", c.NullChange, c.DistinctChange)
			if len(c.TopChanges) > 0 && c.TopChanges[0].ShareA != c.TopChanges[0].ShareB {
				tc := c.TopChanges[0]
				line += fmt.Sprintf("  top %s %.1f%%→%.1f%%", clip(tc.Value), 100*tc.ShareA, 100*tc.ShareB)
			}
			verdict := "ok"
			if len(c.Breaches) > 0 {
				verdict = "DRIFT: " + strings.Join(c.Breaches, ", ")
			}
			fmt.Fprintf(a.stdout, "%s  %s\n", line, verdict)
		}
	}
}
