package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/store"
)

func (a *app) base() string {
	if filepath.IsAbs(a.dir) {
		return a.dir
	}
	return filepath.Join(cwd(), a.dir)
}

// relPaths maps user paths to repository paths.
func (a *app) relPaths(r *repo.Repo, ps []string) ([]string, error) {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		rel, err := r.Rel(a.base(), p)
		if err != nil {
			return nil, err
		}
		out = append(out, rel)
	}
	return out, nil
}

func (a *app) initCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "init [DIR]",
		Short: "Create an empty repository",
		Args:  args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := a.base()
			if len(args) == 1 {
				dir = args[0]
				if !filepath.IsAbs(dir) {
					dir = filepath.Join(a.base(), dir)
				}
			}
			root, err := repo.Init(cmd.Context(), dir)
			if err != nil {
				return err
			}
			a.printf("Initialized empty dx repository in %s\n", filepath.Join(root, repo.DirName))
			return nil
		},
	}
}

func (a *app) checkoutCmd() *cobra.Command {
	var force, asJSON, ours, theirs bool
	c := &cobra.Command{
		Annotations: bigHeap,
		Use:         "checkout [--force] REV [-- PATH...] | --ours|--theirs PATH...",
		Short:       "Switch the worktree to a revision, or restore paths from it",
		Long: "Switch the worktree to a branch, tag or commit. Local changes the switch would overwrite make it\n" +
			"refuse (naming them) unless --force. With '-- PATH...', restore only those paths and leave HEAD.",
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if ours || theirs {
				return a.checkoutSide(cmd, ours, theirs, args)
			}
			rev := args[0]
			var paths []string
			if dash := cmd.ArgsLenAtDash(); dash >= 0 {
				if dash != 1 {
					return usageError{errors.New("usage: dx checkout REV [-- PATH...]")}
				}
				paths = args[1:]
				if len(paths) == 0 {
					return usageError{errors.New("no paths after --")}
				}
			} else if len(args) > 1 {
				return usageError{errors.New("usage: dx checkout REV [-- PATH...]")}
			}
			return a.withRepo(cmd.Context(), func(r *repo.Repo) error {
				rel, err := a.relPaths(r, paths)
				if err != nil {
					return err
				}
				res, err := r.Checkout(cmd.Context(), rev, repo.CheckoutOptions{Force: force, Paths: rel})
				if err != nil {
					return err
				}
				if id := res.LeftBehind; !id.IsZero() {
					a.warn(fmt.Sprintf("left commit %s behind on no branch; 'dx branch NAME %s' keeps it (gc keeps it %d days)", id.Short(), id.Short(), int(repo.DetachedKeep.Hours()/24)))
				}
				if asJSON {
					return a.printJSON(res)
				}
				switch {
				case len(rel) > 0:
					a.printf("Restored %d files from %s\n", res.Written, rev)
				case res.Branch != "":
					a.printf("Switched to branch '%s' (%d written, %d removed)\n", res.Branch, res.Written, res.Removed)
				default:
					a.printf("HEAD is now at %s (detached; %d written, %d removed)\n", res.Target.Short(), res.Written, res.Removed)
				}
				return nil
			})
		},
	}
	c.Flags().BoolVar(&ours, "ours", false, "during a merge: restore PATH... as HEAD has it")
	c.Flags().BoolVar(&theirs, "theirs", false, "during a merge: restore PATH... as the merged revision has it")
	c.Flags().BoolVarP(&force, "force", "f", false, "discard local changes that would be overwritten")
	c.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return c
}

func (a *app) logCmd() *cobra.Command {
	var oneline, graph, asJSON, all bool
	var limit int
	c := &cobra.Command{
		Use:   "log [REV...]",
		Short: "Show commit history",
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withRepoRead(cmd.Context(), func(r *repo.Repo) error {
				if all {
					revs, err := r.AllRevs(cmd.Context())
					if err != nil {
						return err
					}
					args = append(args, revs...)
					if len(args) == 0 {
						return nil // no commits yet
					}
				}
				entries, err := r.Log(cmd.Context(), args, limit)
				if err != nil {
					return err
				}
				if asJSON {
					if entries == nil {
						entries = []repo.LogEntry{}
					}
					return a.printJSON(entries)
				}
				var lines []string
				for _, e := range entries {
					lines = append(lines, formatLogEntry(e, oneline))
				}
				if graph {
					lines = drawGraph(entries, lines)
				}
				for _, l := range lines {
					fmt.Fprint(a.stdout, l)
				}
				return nil
			})
		},
	}
	c.Flags().BoolVar(&oneline, "oneline", false, "one line per commit")
	c.Flags().BoolVar(&graph, "graph", false, "draw the commit graph")
	c.Flags().BoolVar(&all, "all", false, "start from every branch, tag and HEAD")
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	c.Flags().IntVarP(&limit, "max-count", "n", 0, "show at most N commits")
	return c
}

func formatLogEntry(e repo.LogEntry, oneline bool) string {
	decor := ""
	if len(e.Refs) > 0 {
		decor = " (" + strings.Join(e.Refs, ", ") + ")"
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
	fmt.Fprintf(&b, "Author: %s\nDate:   %s\n\n", e.Author, e.Time.Local().Format("Mon Jan 2 15:04:05 2006 -0700"))
	for _, l := range strings.Split(strings.TrimRight(e.Message, "\n"), "\n") {
		fmt.Fprintf(&b, "    %s\n", l)
	}
	b.WriteString("\n")
	return b.String()
}

func (a *app) showCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "show [REV]",
		Short: "Show a commit and the files it changed",
		Args:  args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			rev := "HEAD"
			if len(args) == 1 {
				rev = args[0]
			}
			return a.withRepoRead(cmd.Context(), func(r *repo.Repo) error {
				res, err := r.Show(cmd.Context(), rev)
				if err != nil {
					return err
				}
				if asJSON {
					if res.Changes == nil {
						res.Changes = []repo.Change{}
					}
					return a.printJSON(res)
				}
				fmt.Fprint(a.stdout, formatLogEntry(res.LogEntry, false))
				printStat(a, res.Changes)
				return nil
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return c
}

func printStat(a *app, cs []repo.Change) {
	width := 0
	for _, c := range cs {
		if n := len(displayName(c)); n > width {
			width = n
		}
	}
	if width > 60 {
		width = 60
	}
	var before, after int64
	for _, c := range cs {
		fmt.Fprintf(a.stdout, " %s %-*s | %s\n", changeLetter(c.Kind), width, displayName(c), sizeChange(c))
		before += int64(c.OldSize)
		after += int64(c.NewSize)
	}
	fmt.Fprintf(a.stdout, " %d files changed, %s -> %s\n", len(cs), humanBytes(before), humanBytes(after))
}

func displayName(c repo.Change) string { return changeName(c, " => ") }

func sizeChange(c repo.Change) string {
	switch c.Kind {
	case repo.Added:
		return "+" + humanBytes(int64(c.NewSize))
	case repo.Deleted:
		return "-" + humanBytes(int64(c.OldSize))
	case repo.Renamed:
		return humanBytes(int64(c.NewSize))
	}
	return humanBytes(int64(c.OldSize)) + " -> " + humanBytes(int64(c.NewSize))
}

func (a *app) diffCmd() *cobra.Command {
	var stat, asJSON, nameOnly, rows, nul bool
	var format string
	c := &cobra.Command{
		Annotations: bigHeap,
		Use:         "diff [REV [REV]] [-- PATH...]",
		Short:       "Show differences: files added, removed, modified, renamed; with --rows, table rows",
		Long: "With two revisions, compare them; with one, compare it with the worktree; with none, HEAD with the worktree.\n" +
			"--rows compares the tables named in .dxattributes row by row (added, removed and changed rows, by key),\n" +
			"reading only the chunks that differ.",
		RunE: func(cmd *cobra.Command, args []string) error {
			revs, pathArgs := args, []string(nil)
			if at := cmd.ArgsLenAtDash(); at >= 0 {
				revs, pathArgs = args[:at], args[at:]
			}
			if len(revs) > 2 {
				return usageError{errors.New("diff takes at most two revisions (put paths after --)")}
			}
			if nul && (!nameOnly || rows) {
				return usageError{errors.New("-z needs --name-only (and no --rows)")}
			}
			if format != "" && !rows {
				return usageError{errors.New("--format needs --rows")}
			}
			if format != "" && format != "csv" && format != "jsonl" {
				return usageError{fmt.Errorf("unknown --format %q (csv or jsonl)", format)}
			}
			return a.openRepo(cmd.Context(), store.ReadCaching, func(r *repo.Repo) error {
				paths, err := a.relPaths(r, pathArgs)
				if err != nil {
					return err
				}
				if rows {
					// A listing shows tables outside a sparse repository's
					// paths as not fetched; exported rows must be complete.
					tds, err := r.DiffRows(cmd.Context(), repo.RowDiffOptions{Revs: revs, Paths: paths, Unfetched: format == ""})
					if err != nil {
						return err
					}
					return printRowDiffs(a, tds, asJSON, stat, format)
				}
				cs, err := r.Diff(cmd.Context(), revs)
				if err != nil {
					return err
				}
				cs = filterChanges(cs, paths)
				switch {
				case asJSON:
					if cs == nil {
						cs = []repo.Change{}
					}
					return a.printJSON(cs)
				case stat:
					printStat(a, cs)
				case nameOnly:
					printNames(a.stdout, cs, nul)
				default:
					printChanges(a.stdout, cs, true)
				}
				return nil
			})
		},
	}
	c.Flags().BoolVar(&stat, "stat", false, "show sizes per file and a summary (with --rows: counts per table, no rows)")
	c.Flags().BoolVar(&nameOnly, "name-only", false, "show only paths")
	c.Flags().BoolVarP(&nul, "null", "z", false, "with --name-only: paths unquoted, each ended by a NUL byte")
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	c.Flags().BoolVar(&rows, "rows", false, "compare tables row by row (see .dxattributes)")
	c.Flags().StringVar(&format, "format", "", "with --rows: write changed rows as csv or jsonl")
	return c
}

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

func (a *app) catCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cat REV:PATH",
		Short: "Write a file's content at a revision to stdout",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withRepoRead(cmd.Context(), func(r *repo.Repo) error {
				return r.Cat(cmd.Context(), args[0], a.stdout)
			})
		},
	}
}

func (a *app) branchCmd() *cobra.Command {
	var del, forceDel, rename, asJSON, remotes bool
	c := &cobra.Command{
		Use:   "branch [NAME [START]] | -d NAME | -m OLD NEW | -r",
		Short: "List, create, delete or rename branches",
		Args:  args(cobra.MaximumNArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			access := store.ReadOnly
			if del || forceDel || rename || len(args) > 0 {
				access = store.ReadWrite
			}
			return a.openRepo(ctx, access, func(r *repo.Repo) error {
				switch {
				case del || forceDel:
					if len(args) != 1 {
						return usageError{errors.New("usage: dx branch -d NAME")}
					}
					id, err := r.DeleteBranch(ctx, args[0], forceDel)
					if err != nil {
						return err
					}
					a.printf("Deleted branch %s (was %s)\n", args[0], id.Short())
				case rename:
					if len(args) != 2 {
						return usageError{errors.New("usage: dx branch -m OLD NEW")}
					}
					if err := r.RenameBranch(ctx, args[0], args[1]); err != nil {
						return err
					}
					a.printf("Renamed branch %s to %s\n", args[0], args[1])
				case len(args) > 0:
					start := ""
					if len(args) == 2 {
						start = args[1]
					}
					id, err := r.CreateBranch(ctx, args[0], start)
					if err != nil {
						return err
					}
					a.printf("Created branch %s at %s\n", args[0], id.Short())
				case remotes:
					bs, err := r.RemoteBranches(ctx)
					if err != nil {
						return err
					}
					return a.printRefs(bs, asJSON, false)
				default:
					bs, err := r.Branches(ctx)
					if err != nil {
						return err
					}
					return a.printRefs(bs, asJSON, true)
				}
				return nil
			})
		},
	}
	c.Flags().BoolVarP(&del, "delete", "d", false, "delete a branch merged into HEAD")
	c.Flags().BoolVarP(&forceDel, "force-delete", "D", false, "delete a branch even if unmerged")
	c.Flags().BoolVarP(&rename, "move", "m", false, "rename a branch")
	c.Flags().BoolVarP(&remotes, "remotes", "r", false, "list remote-tracking branches (REMOTE/BRANCH)")
	c.Flags().BoolVar(&asJSON, "json", false, "list as JSON")
	return c
}

func (a *app) printRefs(rs []repo.RefInfo, asJSON, mark bool) error {
	if asJSON {
		if rs == nil {
			rs = []repo.RefInfo{}
		}
		return a.printJSON(rs)
	}
	for _, b := range rs {
		prefix := ""
		if mark {
			prefix = "  "
			if b.Current {
				prefix = "* "
			}
		}
		fmt.Fprintf(a.stdout, "%s%s %s %s\n", prefix, b.Name, b.ID.Short(), b.Subject)
	}
	return nil
}

func (a *app) tagCmd() *cobra.Command {
	var del, asJSON bool
	c := &cobra.Command{
		Use:   "tag [NAME [REV]] | -d NAME",
		Short: "List, create or delete tags",
		Args:  args(cobra.MaximumNArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			access := store.ReadOnly
			if del || len(args) > 0 {
				access = store.ReadWrite
			}
			return a.openRepo(ctx, access, func(r *repo.Repo) error {
				switch {
				case del:
					if len(args) != 1 {
						return usageError{errors.New("usage: dx tag -d NAME")}
					}
					id, err := r.DeleteTag(ctx, args[0])
					if err != nil {
						return err
					}
					a.printf("Deleted tag %s (was %s)\n", args[0], id.Short())
				case len(args) > 0:
					rev := ""
					if len(args) == 2 {
						rev = args[1]
					}
					id, err := r.CreateTag(ctx, args[0], rev)
					if err != nil {
						return err
					}
					a.printf("Tagged %s as %s\n", id.Short(), args[0])
				default:
					ts, err := r.Tags(ctx)
					if err != nil {
						return err
					}
					return a.printRefs(ts, asJSON, false)
				}
				return nil
			})
		},
	}
	c.Flags().BoolVarP(&del, "delete", "d", false, "delete a tag")
	c.Flags().BoolVar(&asJSON, "json", false, "list as JSON")
	return c
}

func (a *app) fsckCmd() *cobra.Command {
	var full, asJSON bool
	c := &cobra.Command{
		Use:   "fsck",
		Short: "Verify the store: packs, index, and everything reachable from refs",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withRepoRead(cmd.Context(), func(r *repo.Repo) error {
				rep, err := r.Fsck(cmd.Context(), full)
				if err != nil {
					return err
				}
				if asJSON {
					if err := a.printJSON(rep); err != nil {
						return err
					}
				} else {
					for _, p := range rep.Problems {
						fmt.Fprintln(a.stdout, "error: "+p)
					}
					if !a.quiet {
						for _, n := range rep.Notes {
							fmt.Fprintln(a.stdout, "note: "+n)
						}
					}
					absent := ""
					if rep.Absent > 0 {
						absent = fmt.Sprintf("; %d not fetched (sparse repository)", rep.Absent)
					}
					a.printf("checked %d packs, %d objects (%d reachable%s): %s\n", rep.Packs, rep.Objects, rep.Reachable, absent, map[bool]string{true: "ok", false: "PROBLEMS FOUND"}[rep.OK()])
				}
				if !rep.OK() {
					return fmt.Errorf("fsck found %d problems", len(rep.Problems))
				}
				return nil
			})
		},
	}
	c.Flags().BoolVar(&full, "full", false, "also hash every pack and read every reachable chunk")
	c.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return c
}

func (a *app) gcCmd() *cobra.Command {
	var prune, asJSON bool
	c := &cobra.Command{
		Use:   "gc [--prune]",
		Short: "Remove data no ref can reach (reports only, unless --prune)",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withRepo(cmd.Context(), func(r *repo.Repo) error {
				rep, err := r.GC(cmd.Context(), !prune)
				if err != nil {
					return err
				}
				if asJSON {
					return a.printJSON(rep)
				}
				verb := "removed"
				if !prune {
					verb = "would remove"
				}
				a.printf("%s %d unreachable objects and %d leftover files, freeing %s (%d packs deleted, %d rewritten)\n",
					verb, rep.Unreachable, rep.OrphansRemoved, humanBytes(rep.FreedBytes), rep.PacksDeleted, rep.PacksRewritten)
				if !prune && (rep.Unreachable > 0 || rep.OrphansRemoved > 0) {
					a.printf("run 'dx gc --prune' to remove them\n")
				}
				return nil
			})
		},
	}
	c.Flags().BoolVar(&prune, "prune", false, "actually delete unreachable data")
	c.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return c
}

var _ = os.Stdout
var _ dag.ID
