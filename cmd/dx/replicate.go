package main

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/progress"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/remote/replicate"
)

func (a *app) replicateCmd() *cobra.Command {
	var o repo.ReplicateOptions
	var asJSON bool
	c := &cobra.Command{
		Use:   "replicate SRC DST [BRANCH|TAG|MODEL…] [--all]",
		Short: "Copy a remote's branches (and the data they need) to another remote",
		Long: "Copies from SRC to DST the packs the refs need that DST lacks, whole and checked on\n" +
			"the way, then moves DST's refs by compare-and-swap and writes its events, so that a\n" +
			"subscriber of DST wakes. SRC and DST are remotes of this repository or URLs\n" +
			"(s3://bucket/prefix, file:///dir, ./dir); with two URLs it runs anywhere. Without\n" +
			"names every branch goes; --all adds tags and models. A DST ref that moved on its own\n" +
			"is left as it is and reported as diverged (exit 5); the others still move.",
		Args: args(cobra.MinimumNArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Src.Arg, o.Dst.Arg, o.Refs = args[0], args[1], args[2:]
			if o.All && len(o.Refs) > 0 {
				return usageError{errors.New("--all and ref names exclude each other")}
			}
			o.Dst.PathStyle = o.Src.PathStyle
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
	f.BoolVar(&asJSON, "json", false, "print as JSON")
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
	for _, rr := range res.Refs {
		line := string(rr.Status)
		for len(line) < 11 {
			line += " "
		}
		line += " " + repo.ShortRef(rr.Name) + " " + rr.Old.Short() + ".." + rr.New.Short()
		if rr.Reason != "" {
			line += " (" + rr.Reason + ")"
		}
		a.printf("%s\n", line)
	}
	a.printf("%d packs (%d objects), %s copied in %.1fs\n", res.Packs, res.Objects, humanBytes(res.PackBytes+res.IndexBytes), time.Since(start).Seconds())
	return err
}

// replicateJSON is what `dx replicate --json` prints.
func replicateJSON(res *replicate.Result, d time.Duration) any {
	refs := []refJSON{}
	for _, rr := range res.Refs {
		j := refJSON{Name: rr.Name, New: rr.New.String(), Status: string(rr.Status), Error: rr.Reason}
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
