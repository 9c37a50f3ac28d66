package main

// The shared-remote collection benchmark: the table's remote (its
// history, pushed to a fresh bucket) plus 20 branches, each 5% of the
// table in new data, pushed and then deleted; dx gc --remote condemns
// (one run) and removes (a run a grace later). Requests are those dx
// counts (MinIO's metrics lag by seconds); the unreachable bytes are
// exactly what the branches' pushes added under packs/.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"time"
)

const (
	gcBranches = 20
	gcBucket   = "dx-gc"
	gcGrace    = time.Second
)

// RemoteGCResult is the collection of a shared remote.
type RemoteGCResult struct {
	Branches         int           `json:"branches"`
	BranchBytes      int64         `json:"branch_bytes"` // new data in each
	Refs             int           `json:"refs"`
	Packs            int           `json:"packs"`   // on the remote before the collection
	Objects          int64         `json:"objects"` // in its indexes
	UnreachableBytes int64         `json:"unreachable_bytes"`
	Runs             []RemoteGCRun `json:"runs"` // condemn, then remove
	ReclaimedBytes   int64         `json:"reclaimed_bytes"`
	Error            string        `json:"error,omitempty"`
}

// RemoteGCRun is one dx gc --remote --prune.
type RemoteGCRun struct {
	Seconds  float64          `json:"seconds"`
	Requests int64            `json:"requests"`
	ByAPI    map[string]int64 `json:"by_api"`
	Removed  int64            `json:"removed_bytes"`
}

// remoteGCBench pushes src's history to a fresh bucket on srv, adds and
// deletes the branches, and times the two runs of the collector.
func (b *bench) remoteGCBench(ctx context.Context, srv *minioServer, rn *runner, src, table string) *RemoteGCResult {
	res := &RemoteGCResult{Branches: gcBranches}
	fail := func(format string, args ...any) *RemoteGCResult {
		res.Error = fmt.Sprintf(format, args...)
		logf("  remote gc: %s", res.Error)
		return res
	}
	logf("--- shared remote: dx gc --remote of the table's history plus %d deleted branches", gcBranches)
	dx := func(args ...string) (runResult, error) {
		r := rn.run(src, nil, b.cfg.dx, args...)
		if r.Err != nil {
			return r, fmt.Errorf("dx %v: %s", args, r.errLine())
		}
		return r, nil
	}
	if err := srv.makeBucket(ctx, gcBucket); err != nil {
		return fail("%v", err)
	}
	fi, err := os.Stat(filepath.Join(src, table))
	if err != nil {
		return fail("%v", err)
	}
	res.BranchBytes = fi.Size() / 20
	steps := [][]string{
		{"remote", "add", "gcbench", "s3://" + gcBucket + "/table", "--endpoint", srv.endpoint(), "--path-style"},
		// The grace is set on the empty remote, where nobody can rely on
		// anything yet.
		{"gc", "--remote", "gcbench", "--prune", "--grace", gcGrace.String()},
		{"push", "-q", "gcbench", "--all"},
	}
	for _, s := range steps {
		if _, err := dx(s...); err != nil {
			return fail("%v", err)
		}
	}
	before, _, err := srv.size(ctx, gcBucket, "table/packs/")
	if err != nil {
		return fail("%v", err)
	}
	rng := rand.New(rand.NewSource(int64(b.cfg.seed)))
	for i := range gcBranches {
		name := fmt.Sprintf("experiment-%d", i)
		if err := writeRows(filepath.Join(src, "experiment.csv"), res.BranchBytes, rng); err != nil {
			return fail("%v", err)
		}
		for _, s := range [][]string{
			{"branch", name}, {"checkout", "-q", name}, {"commit", "-q", "-m", name}, {"push", "-q", "gcbench", name},
			{"checkout", "-q", "main"}, {"branch", "-D", name}, {"push", "-q", "gcbench", "--delete", name},
		} {
			// experiment.csv, untracked on main, goes onto the branch.
			if _, err := dx(s...); err != nil {
				return fail("%v", err)
			}
		}
	}
	after, _, err := srv.size(ctx, gcBucket, "table/packs/")
	if err != nil {
		return fail("%v", err)
	}
	res.UnreachableBytes = after - before
	time.Sleep(gcGrace + 100*time.Millisecond)
	for i := range 2 {
		if i > 0 {
			time.Sleep(gcGrace + 100*time.Millisecond)
		}
		r, err := dx("gc", "--remote", "gcbench", "--prune", "--json")
		if err != nil {
			return fail("%v", err)
		}
		var rep struct {
			Requests map[string]int64 `json:"requests"`
			Refs     int              `json:"refs"`
			Total    struct {
				Packs int `json:"packs"`
			} `json:"total"`
			Removed struct {
				Bytes int64 `json:"bytes"`
			} `json:"removed"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
			return fail("dx gc --json: %v", err)
		}
		run := RemoteGCRun{Seconds: r.Seconds, ByAPI: map[string]int64{}, Removed: rep.Removed.Bytes}
		for _, api := range []string{"list", "get", "put", "delete"} {
			run.ByAPI[api] = rep.Requests[api]
			run.Requests += rep.Requests[api]
		}
		res.Runs = append(res.Runs, run)
		if i == 0 {
			res.Refs, res.Packs = rep.Refs, rep.Total.Packs
		}
	}
	final, _, err := srv.size(ctx, gcBucket, "table/packs/")
	if err != nil {
		return fail("%v", err)
	}
	res.ReclaimedBytes = after - final
	var count struct {
		Objects int64 `json:"objects"`
	}
	if r, err := dx("fsck", "--json"); err == nil {
		_ = json.Unmarshal([]byte(r.Stdout), &count)
	}
	res.Objects = count.Objects
	if _, err := dx("remote", "remove", "gcbench"); err != nil {
		logf("  remote gc: %v", err)
	}
	logf("  remote gc: %d packs, %d refs; condemn %.2f s in %d requests, remove %.2f s in %d requests; reclaimed %s of %s unreachable",
		res.Packs, res.Refs, res.Runs[0].Seconds, res.Runs[0].Requests, res.Runs[1].Seconds, res.Runs[1].Requests,
		human(res.ReclaimedBytes), human(res.UnreachableBytes))
	return res
}

// writeRows writes about n bytes of random CSV rows to path.
func writeRows(path string, n int64, rng *rand.Rand) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "id,name,amount,note")
	var written int64
	for i := 0; written < n; i++ {
		k, _ := fmt.Fprintf(w, "%d,%x,%d.%02d,%x\n", i, rng.Int63(), rng.Intn(100000), rng.Intn(100), rng.Int63())
		written += int64(k)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Targets of the collection.
const (
	targetGCRequests  = "shared remote: dx gc --remote costs O(packs + refs) requests, not O(objects)"
	targetGCReclaimed = "shared remote: space reclaimed ≥ 95% of the exact unreachable bytes"
)

// evaluateRemoteGC adds the collection's targets.
func evaluateRemoteGC(add func(target, ds, result, format string, args ...any), g *RemoteGCResult) {
	if g == nil {
		return
	}
	if g.Error != "" || len(g.Runs) < 2 {
		add(targetGCRequests, "table", "FAIL", "%s", okOr(g.Error, "not measured"))
		add(targetGCReclaimed, "table", "FAIL", "%s", okOr(g.Error, "not measured"))
		return
	}
	// A run reads each ref, lists each prefix, reads each pack's
	// metadata and, when removing, deletes a pack and its index.
	limit := int64(3*(g.Packs+g.Refs) + 20)
	worst := max(g.Runs[0].Requests, g.Runs[1].Requests)
	add(targetGCRequests, "table", passFail(worst <= limit), "condemn %.2f s in %d requests, remove %.2f s in %d requests, for %d packs and %d refs (the repository holds %d objects; bound 3×(packs+refs)+20 = %d)",
		g.Runs[0].Seconds, g.Runs[0].Requests, g.Runs[1].Seconds, g.Runs[1].Requests, g.Packs, g.Refs, g.Objects, limit)
	share := float64(g.ReclaimedBytes) / float64(max(g.UnreachableBytes, 1))
	add(targetGCReclaimed, "table", passFail(share >= 0.95), "%.1f%%: %s of %s (%d branches of %s new data each, pushed and deleted)",
		100*share, human(g.ReclaimedBytes), human(g.UnreachableBytes), g.Branches, human(g.BranchBytes))
}

// remoteGCMarkdown writes the collection's paragraph.
func remoteGCMarkdown(p func(format string, args ...any), g *RemoteGCResult) {
	if g == nil || g.Error != "" || len(g.Runs) < 2 {
		return
	}
	p("**Shared remote collection.** The table's history pushed to a fresh bucket, then %d branches of %s new data each pushed and deleted (%s unreachable); `dx gc --remote --prune` with a %s grace: the run that condemns %.2f s, %d requests %v; the run that removes %.2f s, %d requests %v; %s reclaimed.\n\n",
		g.Branches, human(g.BranchBytes), human(g.UnreachableBytes), gcGrace, g.Runs[0].Seconds, g.Runs[0].Requests, g.Runs[0].ByAPI,
		g.Runs[1].Seconds, g.Runs[1].Requests, g.Runs[1].ByAPI, human(g.ReclaimedBytes))
}
