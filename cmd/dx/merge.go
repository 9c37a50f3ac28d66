package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/merge"
)

// stoppedOnConflicts ends a merge (or pull) that stopped on conflicts in
// the worktree, once they are printed. Like a merge --into that meets
// conflicts, it is a repo.ErrMergeConflicts.
type stoppedOnConflicts struct{}

func (stoppedOnConflicts) Error() string {
	return "automatic merge failed; fix the conflicts, then run 'dx merge --continue' (or 'dx merge --abort')"
}

func (stoppedOnConflicts) Unwrap() error { return repo.ErrMergeConflicts }

// mergeOptions are the arguments and flags of dx merge.
type mergeOptions struct {
	rev      string
	message  string
	into     string   // merge into this branch, in the store alone
	resolved bool     // mark paths resolved
	paths    []string // with resolved
	cont     bool     // commit the merge in progress
	abort    bool     // give up the merge in progress
	asJSON   bool
}

func (a *app) mergeCmd() *cobra.Command {
	var o mergeOptions
	c := &cobra.Command{
		Annotations: bigHeap,
		Use:         "merge [--into BRANCH] REV | --resolved PATH... | --continue | --abort",
		Short:       "Merge a branch or revision into HEAD or another branch (tables row by row)",
		Long: "Fast-forward when HEAD is behind; otherwise a three-way merge from the lowest common ancestor:\n" +
			"a path changed on one side takes that side; a table (see .dxattributes) changed on both sides merges\n" +
			"row by row by key; the same key changed differently on both sides, a non-table file changed on both,\n" +
			"or an incompatible header change is a conflict. On conflicts nothing is committed: resolve them\n" +
			"(dx checkout --ours|--theirs PATH takes a side; or edit the file, tables with the help of their\n" +
			"PATH.conflicts.csv report, and mark it with dx merge --resolved PATH), then dx merge --continue,\n" +
			"which refuses while a conflict is unresolved, or dx merge --abort to go back to where you were.\n" +
			"With --into BRANCH the merge goes into a branch that is not checked out, in the store alone (like a\n" +
			"lakeFS merge): the worktree is neither read nor written, the branch moves only if nobody moved it\n" +
			"meanwhile, and a conflict stops the merge with nothing written.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.resolved {
				if o.cont || o.abort || o.into != "" || len(args) == 0 {
					return usageError{errors.New("usage: dx merge --resolved PATH...")}
				}
				o.paths = args
				return a.runMerge(cmd.Context(), o)
			}
			if len(args) > 1 {
				return usageError{errors.New("merge takes one revision")}
			}
			switch {
			case o.cont && o.abort:
				return usageError{errors.New("--continue and --abort exclude each other")}
			case (o.cont || o.abort) && len(args) > 0:
				return usageError{errors.New("--continue and --abort take no revision")}
			case (o.cont || o.abort) && o.into != "":
				return usageError{errors.New("--into merges in one step: it has nothing to continue or abort")}
			case !o.cont && !o.abort && len(args) == 0:
				return usageError{errors.New("usage: dx merge REV | --continue | --abort")}
			}
			if len(args) == 1 {
				o.rev = args[0]
			}
			return a.runMerge(cmd.Context(), o)
		},
	}
	c.Flags().StringVarP(&o.message, "message", "m", "", "message of the merge commit")
	c.Flags().BoolVar(&o.cont, "continue", false, "commit a merge whose conflicts are resolved")
	c.Flags().BoolVar(&o.abort, "abort", false, "give up a merge and restore the worktree")
	c.Flags().BoolVar(&o.resolved, "resolved", false, "mark the conflicts at PATH... resolved, as the worktree now holds them")
	c.Flags().StringVar(&o.into, "into", "", "merge into this `BRANCH` (not the one checked out) in the store alone, leaving the worktree as it is; conflicts stop it with nothing written")
	c.Flags().BoolVar(&o.asJSON, "json", false, "print as JSON")
	return c
}

// runMerge merges o.rev, or marks paths resolved, or continues or aborts
// the merge in progress. A merge that stops on conflicts fails once they
// are printed.
func (a *app) runMerge(ctx context.Context, o mergeOptions) error {
	return a.withRepo(ctx, func(r *repo.Repo) error {
		switch {
		case o.resolved:
			rel, err := a.relPaths(r, o.paths)
			if err != nil {
				return err
			}
			marked, err := r.MarkResolved(rel)
			if err != nil {
				return fmt.Errorf("merge --resolved: %w", err)
			}
			for _, p := range marked {
				a.printf("resolved: %s\n", quotePath(p))
			}
			return nil
		case o.cont:
			res, err := r.MergeContinue(ctx)
			if err != nil {
				return err
			}
			if o.asJSON {
				return a.printJSON(res)
			}
			a.printf("[%s] merge committed\n", res.ID.Short())
			return nil
		case o.abort:
			if err := r.MergeAbort(ctx); err != nil {
				return err
			}
			a.printf("Merge aborted; the worktree is back at HEAD\n")
			return nil
		}
		res, err := r.Merge(ctx, repo.MergeOptions{Rev: o.rev, Message: o.message, Into: o.into})
		if err != nil && !(errors.Is(err, repo.ErrMergeConflicts) && res != nil) {
			return err
		}
		if o.asJSON {
			if err := a.printJSON(mergeJSON(res)); err != nil {
				return err
			}
		} else {
			printMerge(a, o.rev, o.into, res)
		}
		if err != nil {
			return err
		}
		if len(res.Conflicts) > 0 {
			return stoppedOnConflicts{}
		}
		return nil
	})
}

type conflictJSON struct {
	Path string `json:"path"`
	Kind string `json:"kind"`
	Keys int    `json:"keys,omitempty"`
}

type mergeResultJSON struct {
	*repo.MergeResult
	Conflicts []conflictJSON `json:"conflicts"`
}

func mergeJSON(res *repo.MergeResult) mergeResultJSON {
	out := mergeResultJSON{MergeResult: res, Conflicts: []conflictJSON{}}
	if out.Changes == nil {
		out.Changes = []repo.Change{}
	}
	for _, c := range res.Conflicts {
		out.Conflicts = append(out.Conflicts, conflictJSON{Path: c.Path, Kind: string(c.Kind), Keys: len(c.Rows)})
	}
	return out
}

func printMerge(a *app, rev, into string, res *repo.MergeResult) {
	on := ""
	if into != "" {
		on = " on " + into
	}
	switch {
	case res.UpToDate:
		a.printf("Already up to date.\n")
		return
	case res.FastForward:
		if into != "" {
			a.printf("Fast-forward %s to %s\n", into, res.Commit.Short())
		} else {
			a.printf("Fast-forward to %s (%d written, %d removed)\n", res.Commit.Short(), res.Written, res.Removed)
		}
		printChanges(a.info(), res.Changes, true)
		return
	}
	for _, t := range res.Tables {
		a.printf("Merged table %s by rows: %d added, %d changed, %d removed from %s", quotePath(t.Path), t.Added, t.Changed, t.Removed, rev)
		if t.UnreadRuns > 0 {
			a.printf(", and %d more changed runs of chunks taken whole, unread (no key in them changed here)", t.UnreadRuns)
		}
		if t.Conflicts > 0 {
			a.printf("; %d keys conflict", t.Conflicts)
		}
		a.printf("\n")
	}
	if len(res.Conflicts) == 0 {
		if into != "" {
			a.printf("Merge commit %s%s (base %s)\n", res.Commit.Short(), on, res.Base.Short())
		} else {
			a.printf("Merge commit %s (base %s; %d written, %d removed)\n", res.Commit.Short(), res.Base.Short(), res.Written, res.Removed)
		}
		printChanges(a.info(), res.Changes, true)
		return
	}
	fmt.Fprintf(a.stdout, "Conflicts%s (nothing committed):\n", on)
	for _, c := range res.Conflicts {
		detail := describeConflict(c)
		fmt.Fprintf(a.stdout, "  %-14s %s%s\n", string(c.Kind)+":", quotePath(c.Path), detail)
	}
	for _, p := range res.Reports {
		fmt.Fprintf(a.stdout, "  report: %s\n", quotePath(p))
	}
}

func describeConflict(c merge.PathConflict) string {
	switch c.Kind {
	case merge.ConflictRows:
		keys := make([]string, 0, 5)
		for i, rc := range c.Rows {
			if i == 5 {
				keys = append(keys, "…")
				break
			}
			keys = append(keys, merge.ShowKey(rc.Key))
		}
		return fmt.Sprintf(" (%d keys: %s)", len(c.Rows), strings.Join(keys, " "))
	case merge.ConflictModifyDelete:
		if c.Ours == nil {
			return " (removed on ours, changed on theirs)"
		}
		return " (changed on ours, removed on theirs)"
	}
	return ""
}

// printMergeState lists the conflicts of the merge in progress, resolved
// or not, and what to do next.
func printMergeState(w io.Writer, m *repo.MergeState) {
	un := m.Unresolved()
	fmt.Fprintf(w, "Merging %s (%s); %d of %d conflicts unresolved:\n", m.Rev, m.Theirs.Short(), len(un), len(m.Conflicts))
	for _, p := range m.Conflicts {
		mark := "unresolved"
		if !slices.Contains(un, p) {
			mark = "resolved"
		}
		fmt.Fprintf(w, "  %-11s %s\n", mark+":", quotePath(p))
	}
	if len(un) > 0 {
		fmt.Fprintln(w, "  (take a side with dx checkout --ours|--theirs PATH, or edit and dx merge --resolved PATH;")
		fmt.Fprintln(w, "   then dx merge --continue, or dx merge --abort)")
	} else {
		fmt.Fprintln(w, "  (all resolved: dx merge --continue, or dx merge --abort)")
	}
}
