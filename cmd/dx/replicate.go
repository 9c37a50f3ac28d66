package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/progress"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/remote/replicate"
	"github.com/dxdata/dx/remote/wake"
)

func (a *app) replicateCmd() *cobra.Command {
	var o repo.ReplicateOptions
	var asJSON, watch bool
	var wo wake.Options
	c := &cobra.Command{
		Use:   "replicate SRC DST [BRANCH|TAG|MODEL…] [--all] [--watch [--interval D] [--refs-interval D] [--poll]]",
		Short: "Copy a remote's branches (and the data they need) to another remote",
		Long: "Copies from SRC to DST the packs the refs need that DST lacks, whole and checked on\n" +
			"the way, then moves DST's refs by compare-and-swap and writes its events, so that a\n" +
			"subscriber of DST wakes. SRC and DST are remotes of this repository or URLs\n" +
			"(s3://bucket/prefix, file:///dir, ./dir); with two URLs it runs anywhere. Without\n" +
			"names every branch goes; --all adds tags and models. A DST ref that moved on its own\n" +
			"is left as it is and reported as diverged (exit 5); the others still move.\n" +
			"--watch keeps going: it follows SRC as a subscriber does (bucket notifications on\n" +
			"MinIO, else a poll of events/ every --interval; its refs every --refs-interval in any\n" +
			"case) and replicates each new head; failures are retried with back-off.",
		Args: args(cobra.MinimumNArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Src.Arg, o.Dst.Arg, o.Refs = args[0], args[1], args[2:]
			if o.All && len(o.Refs) > 0 {
				return usageError{errors.New("--all and ref names exclude each other")}
			}
			o.Dst.PathStyle = o.Src.PathStyle
			if watch {
				return a.runReplicateWatch(cmd.Context(), o, wo, asJSON)
			}
			return a.runReplicate(cmd.Context(), o, asJSON)
		},
	}
	f := c.Flags()
	f.BoolVar(&o.All, "all", false, "every branch, tag and model")
	f.IntVarP(&o.Parallel, "jobs", "j", 0, "packs copied at once (default 4)")
	f.StringVar(&o.Src.Endpoint, "src-endpoint", "", "S3 endpoint of a SRC given as a URL")
	f.StringVar(&o.Src.Region, "src-region", "", "S3 region of a SRC given as a URL")
	f.StringVar(&o.Dst.Endpoint, "dst-endpoint", "", "S3 endpoint of a DST given as a URL")
	f.StringVar(&o.Dst.Region, "dst-region", "", "S3 region of a DST given as a URL")
	f.BoolVar(&o.Src.PathStyle, "path-style", false, "address the buckets of URLs as endpoint/bucket")
	f.BoolVar(&asJSON, "json", false, "print as JSON (with --watch, one object per line and pass)")
	f.BoolVar(&watch, "watch", false, "keep replicating each new head of SRC")
	f.DurationVar(&wo.Interval, "interval", wake.DefaultInterval, "with --watch, how often to list SRC's events/ when it offers no notifications")
	f.DurationVar(&wo.RefsInterval, "refs-interval", wake.DefaultRefsInterval, "with --watch, the longest time between two reads of SRC's refs")
	f.BoolVar(&wo.Poll, "poll", false, "with --watch, poll events/ even where SRC offers notifications")
	return c
}

// runReplicate replicates and prints what became of each ref and what was
// copied, also when some refs diverged.
func (a *app) runReplicate(ctx context.Context, o repo.ReplicateOptions, asJSON bool) error {
	o.Dir = a.dir
	o.Progress = progress.ForStderr(a.quiet)
	o.TempDir = os.TempDir()
	start := time.Now()
	res, err := repo.Replicate(ctx, o)
	if res == nil {
		return err
	}
	if asJSON {
		if jerr := a.printJSON(replicateJSON(res, time.Since(start))); jerr != nil {
			return jerr
		}
		return err
	}
	a.printReplicated(res, time.Since(start), false)
	return err
}

// printReplicated prints what became of each ref (only those that moved
// or diverged, with onlyNews) and what was copied.
func (a *app) printReplicated(res *replicate.Result, d time.Duration, onlyNews bool) {
	for _, rr := range res.Refs {
		if onlyNews && rr.Status == replicate.UpToDate {
			continue
		}
		line := string(rr.Status)
		for len(line) < 11 {
			line += " "
		}
		if rr.Status == replicate.Deleted {
			line += " " + repo.ShortRef(rr.Name) + " (was " + rr.Old.Short() + ")"
		} else {
			line += " " + repo.ShortRef(rr.Name) + " " + rr.Old.Short() + ".." + rr.New.Short()
		}
		if rr.Reason != "" {
			line += " (" + rr.Reason + ")"
		}
		a.printf("%s\n", line)
	}
	a.printf("%d packs (%d objects), %s copied in %.1fs\n", res.Packs, res.Objects, humanBytes(res.PackBytes+res.IndexBytes), d.Seconds())
}

// runReplicateWatch replicates each new head of SRC until a signal,
// printing each pass that moved something.
func (a *app) runReplicateWatch(ctx context.Context, o repo.ReplicateOptions, wo wake.Options, asJSON bool) error {
	o.Dir = a.dir
	o.TempDir = os.TempDir()
	start := time.Now()
	return repo.ReplicateWatch(ctx, o, wo, func(e replicate.WatchEvent) {
		switch {
		case e.Waker != nil:
			if !a.quiet {
				fmt.Fprintln(a.stderr, "dx: replicate "+o.Src.Arg+" → "+o.Dst.Arg+": watching "+e.Waker.String())
			}
		case e.Err != nil:
			a.warn(fmt.Sprintf("replicate %s → %s: %v (retrying in %s)", o.Src.Arg, o.Dst.Arg, e.Err, e.Retry))
		case asJSON:
			_ = a.printJSONLine(replicateJSON(e.Result, time.Since(start)))
		default:
			a.printReplicated(e.Result, time.Since(start), true)
		}
		start = time.Now()
	})
}

// replicateJSON is what `dx replicate --json` prints.
func replicateJSON(res *replicate.Result, d time.Duration) any {
	refs := []refJSON{}
	for _, rr := range res.Refs {
		j := refJSON{Name: rr.Name, Status: string(rr.Status), Error: rr.Reason}
		if !rr.New.IsZero() {
			j.New = rr.New.String()
		}
		if !rr.Old.IsZero() {
			j.Old = rr.Old.String()
		}
		refs = append(refs, j)
	}
	return struct {
		*replicate.Result
		Refs        []refJSON `json:"refs"`
		BytesCopied int64     `json:"bytes_copied"`
		Seconds     float64   `json:"seconds"`
	}{res, refs, res.PackBytes + res.IndexBytes, d.Seconds()}
}
