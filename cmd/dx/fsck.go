package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/store"
)

// fsckOptions are the flags of dx fsck.
type fsckOptions struct {
	full   bool // also hash every pack and read every reachable chunk
	repair bool // rebuild the object index from the packs if the check fails
	asJSON bool
}

func (a *app) fsckCmd() *cobra.Command {
	var o fsckOptions
	c := &cobra.Command{
		Use:   "fsck",
		Short: "Verify the store: packs, index, and everything reachable from refs",
		Long: `Verify the store: packs, index, and everything reachable from refs.

With --repair, a check that fails rebuilds the object index from the packs'
own indexes (their footers), then checks again. Data in packs is never
changed; the records of packs whose file is gone are dropped, so that their
objects count as missing and a fetch can bring them back.`,
		Args:        args(cobra.NoArgs),
		Annotations: bigHeap,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runFsck(cmd.Context(), o)
		},
	}
	c.Flags().BoolVar(&o.full, "full", false, "also hash every pack and read every reachable chunk")
	c.Flags().BoolVar(&o.repair, "repair", false, "if the check fails, rebuild the object index from the packs and check again")
	c.Flags().BoolVar(&o.asJSON, "json", false, "print the report as JSON")
	return c
}

// fsckProblems is the error of a check that found problems: how many,
// and what to run.
type fsckProblems struct {
	n    int
	hint string
}

func (e fsckProblems) Error() string { return fmt.Sprintf("fsck found %d problems%s", e.n, e.hint) }

// fsckJSON is dx fsck's report as JSON: the last check's, and what a
// repair did.
type fsckJSON struct {
	*store.FsckReport
	Repair *store.RepairReport `json:"repair,omitempty"`
}

// runFsck verifies the store, prints its report, and fails when it found
// problems (that a repair, if asked for, did not mend).
func (a *app) runFsck(ctx context.Context, o fsckOptions) error {
	with := a.withRepoRead
	if o.repair {
		with = a.withRepo
	}
	return with(ctx, func(r *repo.Repo) error {
		rep, err := r.Fsck(ctx, o.full)
		if err != nil {
			return err
		}
		var fixed *store.RepairReport
		if o.repair && !rep.OK() {
			if !o.asJSON {
				a.printProblems(rep)
			}
			if fixed, err = r.RepairIndex(ctx); err != nil {
				return err
			}
			if !o.asJSON {
				a.printRepair(fixed)
			}
			if rep, err = r.Fsck(ctx, o.full); err != nil {
				return err
			}
		}
		if o.asJSON {
			if err := a.printJSON(fsckJSON{rep, fixed}); err != nil {
				return err
			}
		} else {
			a.printProblems(rep)
			if !a.quiet {
				for _, n := range rep.Notes {
					fmt.Fprintln(a.stdout, "note: "+n)
				}
			}
			absent := ""
			if rep.Absent > 0 {
				absent = fmt.Sprintf("; %d not fetched (sparse repository)", rep.Absent)
			}
			if rep.Shallow > 0 {
				absent += fmt.Sprintf("; history cut below %d shallow commits", rep.Shallow)
			}
			a.printf("checked %d packs, %d objects (%d reachable%s): %s\n", rep.Packs, rep.Objects, rep.Reachable, absent, map[bool]string{true: "ok", false: "PROBLEMS FOUND"}[rep.OK()])
		}
		switch {
		case rep.OK():
			return nil
		case rep.IndexDamaged && !o.repair:
			return fsckProblems{len(rep.Problems), " (dx fsck --repair rebuilds the object index from the packs)"}
		}
		return fsckProblems{n: len(rep.Problems)}
	})
}

func (a *app) printProblems(rep *store.FsckReport) {
	for _, p := range rep.Problems {
		fmt.Fprintln(a.stdout, "error: "+p)
	}
}

// printRepair says what a repair did.
func (a *app) printRepair(f *store.RepairReport) {
	var also []string
	if f.DamagedFiles > 0 {
		also = append(also, fmt.Sprintf("%d damaged location files replaced", f.DamagedFiles))
	}
	if n := len(f.UnreadableFooters); n > 0 {
		also = append(also, fmt.Sprintf("%d packs with an unreadable footer kept as the sound files placed them", n))
	}
	if n := len(f.MissingPacks); n > 0 {
		also = append(also, fmt.Sprintf("%d missing packs forgotten (their objects can be fetched again)", n))
	}
	detail := ""
	if len(also) > 0 {
		detail = "; " + strings.Join(also, "; ")
	}
	a.printf("repaired: rebuilt the object index from %d packs, %d objects%s\n", f.Packs, f.Objects, detail)
}
