package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/remote/gc"
)

// gcOptions are the flags of dx gc.
type gcOptions struct {
	prune  bool // delete; without it, only report
	asJSON bool
	remote string // collect this remote's garbage instead of the store's
	within string // --keep-within, parsed into rg.Keep.Within
	rg     gc.Options
}

func (a *app) gcCmd() *cobra.Command {
	var o gcOptions
	c := &cobra.Command{
		Use:   "gc [--prune] [--remote NAME [--grace D] [--keep-last N] [--keep-within D]]",
		Short: "Remove data no ref can reach (reports only, unless --prune)",
		Long: "Removes what no ref can reach from the local store, or with --remote from a\n" +
			"remote, while others push to it: a remote's unreachable packs are condemned by\n" +
			"one run and removed by a later one, at least --grace after (by the server's\n" +
			"clock), if still unreachable. Without --prune it only reports.\n\n" +
			"--keep-last and --keep-within cut the remote's branches' history: a branch keeps\n" +
			"its tip, the commits within N of it and those made within D; tags, model versions\n" +
			"and stages always keep the commits they name. Older commits and the data only\n" +
			"they hold are collected; the remote lists where history is cut (shallow).",
		Args:        args(cobra.NoArgs),
		Annotations: bigHeap,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("remote") {
				return a.runRemoteGC(cmd.Context(), o)
			}
			if cmd.Flags().Changed("grace") || cmd.Flags().Changed("events-retention") || o.rg.Keep.Active() || o.within != "" {
				return usageError{errors.New("--grace, --events-retention, --keep-last and --keep-within go with --remote")}
			}
			return a.runGC(cmd.Context(), o)
		},
	}
	c.Flags().BoolVar(&o.prune, "prune", false, "actually delete unreachable data")
	c.Flags().StringVar(&o.remote, "remote", "", "collect a remote's garbage")
	c.Flags().DurationVar(&o.rg.Grace, "grace", 0, "how long condemned packs stay, and pushes may take (default: the remote's, else 24h)")
	c.Flags().DurationVar(&o.rg.EventRetention, "events-retention", 0, "remove events older than this (default 168h)")
	c.Flags().IntVar(&o.rg.Keep.Last, "keep-last", 0, "keep the last N commits of each remote branch (with their merged history), collect older ones")
	c.Flags().StringVar(&o.within, "keep-within", "", "keep the commits of each remote branch made within D (90d, 36h, 90m), collect older ones")
	c.Flags().BoolVar(&o.asJSON, "json", false, "print the report as JSON")
	return c
}

// runGC reports, or with o.prune removes, the data no ref can reach.
func (a *app) runGC(ctx context.Context, o gcOptions) error {
	return a.withRepo(ctx, func(r *repo.Repo) error {
		rep, err := r.GC(ctx, !o.prune)
		if err != nil {
			return err
		}
		if o.asJSON {
			return a.printJSON(rep)
		}
		verb := "removed"
		if !o.prune {
			verb = "would remove"
		}
		a.printf("%s %d unreachable objects and %d leftover files, freeing %s (%d packs deleted, %d rewritten)\n",
			verb, rep.Unreachable, rep.OrphansRemoved, humanBytes(rep.FreedBytes), rep.PacksDeleted, rep.PacksRewritten)
		if rep.DerivedDropped > 0 || rep.DerivedFreed > 0 {
			a.printf("%s %d cache entries (profiles, value ranges, row counts) of data no longer stored, freeing %s\n",
				verb, rep.DerivedDropped, humanBytes(rep.DerivedFreed))
		}
		if !o.prune && (rep.Unreachable > 0 || rep.OrphansRemoved > 0 || rep.DerivedDropped > 0 || rep.DerivedFreed > 0) {
			a.printf("run 'dx gc --prune' to remove them\n")
		}
		return nil
	})
}

// runRemoteGC reports, or with o.prune collects, a remote's garbage.
func (a *app) runRemoteGC(ctx context.Context, o gcOptions) error {
	if o.rg.Grace < 0 || o.rg.EventRetention < 0 {
		return usageError{errors.New("--grace and --events-retention must not be negative")}
	}
	if o.rg.Keep.Last < 0 {
		return usageError{errors.New("--keep-last must not be negative")}
	}
	if o.within != "" {
		d, err := gc.ParseAge(o.within)
		if err != nil || d == 0 {
			return usageError{fmt.Errorf("--keep-within: %q: not a positive duration (90d, 36h, 90m)", o.within)}
		}
		o.rg.Keep.Within = d
	}
	return a.withRepo(ctx, func(r *repo.Repo) error {
		o.rg.Prune = o.prune
		rep, err := r.RemoteGC(ctx, o.remote, o.rg)
		if err != nil {
			return err
		}
		if o.asJSON {
			return a.printJSON(rep)
		}
		a.printf("%d refs; %d packs, %s: live %s (of which %s unreachable objects), young %s (pushes on their way), unreachable %s in %d packs (%d without an index)\n",
			rep.Refs, rep.Total.Packs, humanBytes(rep.Total.Bytes), humanBytes(rep.Live.Bytes), humanBytes(rep.DeadInLive), humanBytes(rep.Young.Bytes),
			humanBytes(rep.Unreachable.Bytes), rep.Unreachable.Packs, rep.Orphans.Packs)
		if rep.Shallow > 0 {
			a.printf("history cut below %d commits (shallow); %d commits kept by the keep policy\n", rep.Shallow, rep.Kept)
		}
		if rep.Waiting.Packs > 0 {
			a.printf("%d condemned packs (%s) wait until %s\n", rep.Waiting.Packs, humanBytes(rep.Waiting.Bytes), rep.RemovableAt.Local().Format(time.RFC3339))
		}
		if !o.prune {
			a.printf("old events: %d (%s); run 'dx gc --remote %s --prune' to collect\n", rep.OldEvents.Packs, humanBytes(rep.OldEvents.Bytes), o.remote)
			return nil
		}
		a.printf("removed %d packs (%s), condemned %d (%s, removed by a run after %s; %d of them copied without their dead objects into %s), removed %d old events\n",
			rep.Removed.Packs, humanBytes(rep.Removed.Bytes), rep.Condemned.Packs, humanBytes(rep.Condemned.Bytes), rep.Grace,
			rep.Repacked.Packs, humanBytes(rep.RepackedInto), rep.OldEvents.Packs)
		return nil
	})
}
