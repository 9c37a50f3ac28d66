package main

import (
	"context"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/profile"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/store"
)

type profileOptions struct {
	asJSON bool
}

func (a *app) profileCmd() *cobra.Command {
	var o profileOptions
	c := &cobra.Command{
		Use:   "profile REV:PATH [--json]",
		Short: "Per column of a table: counts, nulls, distinct, min, max, mean, quantiles, top values",
		Long: "Profiles the table at REV:PATH column by column: the values and nulls (empty, null or\n" +
			"missing), the distinct count (exact while every chunk holds at most " + strconv.Itoa(profile.SpanValues) + " distinct\n" +
			"values, else a HyperLogLog estimate, 1.6% standard error), min and max in the\n" +
			"column's type (inferred, or the data contract's), for numbers the mean, standard\n" +
			"deviation and quantiles (DDSketch, within 1%), for strings the lengths, and the top\n" +
			"values with their counts (exact unless marked ≈). Each chunk's profile is kept in the\n" +
			"index: a later version computes only the chunks that changed.",
		Annotations: bigHeap,
		Args:        args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !strings.Contains(args[0], ":") {
				return usageError{fmt.Errorf("profile %q: want REV:PATH", args[0])}
			}
			return a.runProfile(cmd.Context(), args[0], o)
		},
	}
	c.Flags().BoolVar(&o.asJSON, "json", false, "print the profile as JSON")
	return c
}

// profileGCPercent is the collector's target while profiling: merging
// the chunks' profiles makes much short-lived garbage and keeps little
// (the file's profile), so a higher target collects less often for a
// few tens of MB more.
const profileGCPercent = 400

func (a *app) runProfile(ctx context.Context, spec string, o profileOptions) error {
	debug.SetGCPercent(profileGCPercent)
	return a.openRepo(ctx, store.ReadCaching, func(r *repo.Repo) error {
		tp, err := r.ProfileTable(ctx, spec)
		if err != nil {
			return err
		}
		if o.asJSON {
			return a.printJSON(tp)
		}
		a.printProfile(tp)
		return nil
	})
}

// printProfile prints a profile as a table of columns, then each
// column's top values.
func (a *app) printProfile(tp *repo.TableProfile) {
	fmt.Fprintf(a.stdout, "%s at %s: %d rows, %d columns (%d chunks: %d computed, %d reused)\n",
		quotePath(tp.Path), tp.Commit.Short(), tp.Rows, len(tp.Columns), tp.Spans, tp.Computed, tp.Reused)
	if len(tp.Columns) == 0 {
		return
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "column\ttype\tcount\tnulls\tdistinct\tmin\tmax\tmean\tstddev\tp05\tp50\tp95")
	for _, c := range tp.Columns {
		approx := ""
		if !c.DistinctExact {
			approx = "≈"
		}
		var p05, p50, p95 string
		if q := c.Quantiles; q != nil {
			p05, p50, p95 = num(q.P05), num(q.P50), num(q.P95)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, c.Type, c.Count, c.Nulls, approx, c.Distinct,
			clip(c.Min), clip(c.Max), numPtr(c.Mean), numPtr(c.Stddev), p05, p50, p95)
	}
	tw.Flush()
	for _, c := range tp.Columns {
		if c.Note != "" {
			fmt.Fprintf(a.stdout, "%s: %s\n", c.Name, c.Note)
		}
		if len(c.Top) == 0 || c.Top[0].Count < 2 && c.Count > profile.TopK {
			continue // no value repeats (that a chunk saw): no top worth a line
		}
		approx := ""
		if !c.TopExact {
			approx = "≈"
		}
		parts := make([]string, len(c.Top))
		for i, vc := range c.Top {
			parts[i] = fmt.Sprintf("%s (%s%d)", clip(vc.Value), approx, vc.Count)
		}
		line := fmt.Sprintf("%s: top %s", c.Name, strings.Join(parts, ", "))
		if c.Length != nil {
			line += fmt.Sprintf("; length %d..%d, mean %.1f", c.Length.Min, c.Length.Max, c.Length.Mean)
		}
		fmt.Fprintln(a.stdout, line)
	}
}

// num prints a figure with at most 6 significant digits.
func num(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) }

func numPtr(f *float64) string {
	if f == nil {
		return ""
	}
	return num(*f)
}

// clip shortens a value for a table cell.
func clip(s string) string {
	if r := []rune(s); len(r) > 24 {
		return string(r[:21]) + "..."
	}
	return s
}
