package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
)

// logOptions are the arguments and flags of dx log.
type logOptions struct {
	revs    []string
	all     bool // start from every branch, tag and HEAD too
	limit   int
	oneline bool
	graph   bool
	asJSON  bool
	tui     bool // browse in the terminal UI instead of printing
}

func (a *app) logCmd() *cobra.Command {
	var o logOptions
	c := &cobra.Command{
		Use:   "log [REV...]",
		Short: "Show commit history",
		RunE: func(cmd *cobra.Command, args []string) error {
			o.revs = args
			if o.tui {
				return a.runUI(cmd.Context(), uiOptions{revs: o.revs, all: o.all})
			}
			return a.runLog(cmd.Context(), o)
		},
	}
	c.Flags().BoolVar(&o.oneline, "oneline", false, "one line per commit")
	c.Flags().BoolVar(&o.graph, "graph", false, "draw the commit graph")
	c.Flags().BoolVar(&o.all, "all", false, "start from every branch, tag and HEAD")
	c.Flags().BoolVar(&o.asJSON, "json", false, "print as JSON")
	c.Flags().BoolVar(&o.tui, "tui", false, "browse in the terminal UI (as dx ui)")
	c.Flags().IntVarP(&o.limit, "max-count", "n", 0, "show at most N commits")
	return c
}

// runLog prints the history of o.revs (HEAD when none).
func (a *app) runLog(ctx context.Context, o logOptions) error {
	return a.withRepoRead(ctx, func(r *repo.Repo) error {
		revs, err := logStarts(ctx, r, o.revs, o.all)
		if err != nil {
			return err
		}
		if o.all && len(revs) == 0 {
			return nil // no commits yet
		}
		entries, err := r.Log(ctx, revs, o.limit)
		if err != nil {
			return err
		}
		if o.asJSON {
			if entries == nil {
				entries = []repo.LogEntry{}
			}
			return a.printJSON(entries)
		}
		var lines []string
		for _, e := range entries {
			lines = append(lines, formatLogEntry(e, o.oneline))
		}
		if o.graph {
			lines = drawGraph(entries, lines)
		}
		for _, l := range lines {
			fmt.Fprint(a.stdout, l)
		}
		return nil
	})
}

// logStarts is where a log of revs starts: with all, every branch, tag and
// HEAD too (none in a repository without commits).
func logStarts(ctx context.Context, r *repo.Repo, revs []string, all bool) ([]string, error) {
	if !all {
		return revs, nil
	}
	refs, err := r.AllRevs(ctx)
	if err != nil {
		return nil, err
	}
	return append(revs, refs...), nil
}

// formatLogEntry is a commit as log and show print it: one line, or a
// header and the indented message.
func formatLogEntry(e repo.LogEntry, oneline bool) string {
	decor := ""
	if len(e.Refs) > 0 {
		decor = " (" + strings.Join(e.Refs, ", ") + ")"
	}
	if e.Unverified() {
		decor += " [unverified]"
	}
	if e.Shallow {
		decor += " [shallow: older history collected]"
	}
	if oneline {
		return fmt.Sprintf("%s%s %s\n", e.ID.Short(), decor, dag.Subject(e.Message))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "commit %s%s\n", e.ID, decor)
	if len(e.Parents) > 1 {
		var ps []string
		for _, p := range e.Parents {
			ps = append(ps, p.Short())
		}
		fmt.Fprintf(&b, "Merge: %s\n", strings.Join(ps, " "))
	}
	fmt.Fprintf(&b, "Author: %s\nDate:   %s\n", e.Author, e.Time.Local().Format("Mon Jan 2 15:04:05 2006 -0700"))
	if e.Unverified() {
		b.WriteString("Unverified: made with --no-verify; its tables were stored unchecked (dx check lists what breaks the contract)\n")
	}
	b.WriteString("\n")
	for _, l := range strings.Split(strings.TrimRight(e.Message, "\n"), "\n") {
		fmt.Fprintf(&b, "    %s\n", l)
	}
	b.WriteString("\n")
	return b.String()
}
