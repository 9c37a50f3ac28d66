package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/store"
)

// diffOptions are the arguments and flags of dx diff.
type diffOptions struct {
	revs     []string // none, one or two
	paths    []string // after --
	rows     bool     // compare tables row by row
	format   string   // with rows: write the changed rows as csv or jsonl
	stat     bool
	nameOnly bool
	nul      bool // with nameOnly: paths unquoted, each ended by a NUL byte
	asJSON   bool
}

func (a *app) diffCmd() *cobra.Command {
	var o diffOptions
	c := &cobra.Command{
		Annotations: bigHeap,
		Use:         "diff [REV [REV]] [-- PATH...]",
		Short:       "Show differences: files added, removed, modified, renamed; with --rows, table rows",
		Long: "With two revisions, compare them; with one, compare it with the worktree; with none, HEAD with the worktree.\n" +
			"--rows compares the tables named in .dxattributes row by row (added, removed and changed rows, by key),\n" +
			"reading only the chunks that differ.",
		RunE: func(cmd *cobra.Command, args []string) error {
			o.revs, o.paths = args, nil
			if at := cmd.ArgsLenAtDash(); at >= 0 {
				o.revs, o.paths = args[:at], args[at:]
			}
			if len(o.revs) > 2 {
				return usageError{errors.New("diff takes at most two revisions (put paths after --)")}
			}
			if o.nul && (!o.nameOnly || o.rows) {
				return usageError{errors.New("-z needs --name-only (and no --rows)")}
			}
			if o.format != "" && !o.rows {
				return usageError{errors.New("--format needs --rows")}
			}
			if o.format != "" && o.format != "csv" && o.format != "jsonl" {
				return usageError{fmt.Errorf("unknown --format %q (csv or jsonl)", o.format)}
			}
			return a.runDiff(cmd.Context(), o)
		},
	}
	c.Flags().BoolVar(&o.stat, "stat", false, "show sizes per file and a summary (with --rows: counts per table, no rows)")
	c.Flags().BoolVar(&o.nameOnly, "name-only", false, "show only paths")
	c.Flags().BoolVarP(&o.nul, "null", "z", false, "with --name-only: paths unquoted, each ended by a NUL byte")
	c.Flags().BoolVar(&o.asJSON, "json", false, "print as JSON")
	c.Flags().BoolVar(&o.rows, "rows", false, "compare tables row by row (see .dxattributes)")
	c.Flags().StringVar(&o.format, "format", "", "with --rows: write changed rows as csv or jsonl")
	return c
}

// runDiff prints what changed between the revisions, or between one and
// the worktree, file by file or, with o.rows, row by row.
func (a *app) runDiff(ctx context.Context, o diffOptions) error {
	return a.openRepo(ctx, store.ReadCaching, func(r *repo.Repo) error {
		paths, err := a.relPaths(r, o.paths)
		if err != nil {
			return err
		}
		if o.rows {
			// A listing shows tables outside a sparse repository's
			// paths as not fetched; exported rows must be complete.
			tds, err := r.DiffRows(ctx, repo.RowDiffOptions{Revs: o.revs, Paths: paths, Unfetched: o.format == ""})
			if err != nil {
				return err
			}
			return printRowDiffs(a, tds, o.asJSON, o.stat, o.format)
		}
		cs, err := r.Diff(ctx, o.revs)
		if err != nil {
			return err
		}
		cs = filterChanges(cs, paths)
		switch {
		case o.asJSON:
			if cs == nil {
				cs = []repo.Change{}
			}
			return a.printJSON(cs)
		case o.stat:
			printStat(a, cs)
		case o.nameOnly:
			printNames(a.stdout, cs, o.nul)
		default:
			printChanges(a.stdout, cs, true)
		}
		return nil
	})
}

// filterChanges keeps the changes at or under one of paths (all when
// paths is empty).
func filterChanges(cs []repo.Change, paths []string) []repo.Change {
	if len(paths) == 0 {
		return cs
	}
	out := cs[:0:0]
	for _, c := range cs {
		for _, p := range paths {
			if p == "" || c.Path == p || strings.HasPrefix(c.Path, p+"/") || c.From == p {
				out = append(out, c)
				break
			}
		}
	}
	return out
}
