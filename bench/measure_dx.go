package main

// The dx sequence on one dataset: commits, growth, row diff, checkout.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// measureDX runs the dx sequence on ds in a fresh repo: init, v1, the
// ceilings, first commit, no-change re-commit, v2 + second commit,
// checkout + verify.
func (b *bench) measureDX(ds *dataset, dr *DatasetResult, repo string) (res, ceil, storeCeil *Result) {
	res = &Result{Tool: "dx", Version: b.rep.DXVersion, Status: "ok"}
	ceil = &Result{Tool: "ceiling", Status: "ok"}
	storeCeil = &Result{Tool: storeCeilingTool, Status: "ok"}
	if err := os.MkdirAll(repo, 0o755); err != nil {
		markFailed(res, "%v", err)
		markFailed(ceil, "%v", err)
		markFailed(storeCeil, "%v", err)
		return
	}
	if r := b.rn.run(repo, nil, b.cfg.dx, "init"); r.Err != nil {
		markFailed(res, "dx init: %s", r.errLine())
	}
	if ds.attributes != "" {
		if err := os.WriteFile(filepath.Join(repo, ".dxattributes"), []byte(ds.attributes), 0o644); err != nil {
			markFailed(res, "%v", err)
		}
	}
	v1, err := b.gen(ds.name+" v1 into the dx worktree", func() (genInfo, error) { return ds.genV1(repo) })
	if err != nil {
		markFailed(res, "generating v1: %v", err)
		markFailed(ceil, "generating v1: %v", err)
		markFailed(storeCeil, "generating v1: %v", err)
		return
	}
	dr.V1Bytes, dr.V1Files, dr.V1Desc = v1.Bytes, v1.Files, v1.Edits

	// The ceilings and the first commit, round by round (interleave): the
	// rows compare them.
	ceilS, _ := b.ceilingSeries(ds, repo, "")
	storeS, dropPacks := b.ceilingSeries(ds, repo, filepath.Join(filepath.Dir(repo), "ceiling-packs"))
	defer dropPacks()
	dxDir := filepath.Join(repo, ".dx")
	commits := 0
	commitS := &series{run: func() (runResult, bool) {
		// Again into a fresh store each time.
		if commits++; commits > 1 {
			if err := os.RemoveAll(dxDir); err != nil {
				return runResult{Err: err}, false
			}
			if r := b.rn.run(repo, nil, b.cfg.dx, "init"); r.Err != nil {
				return r, false
			}
		}
		return b.timed(repo, "commit", "--quiet", "-m", "v1")
	}}
	if res.Status == "failed" {
		b.interleave(ceilS, storeS)
	} else {
		b.interleave(ceilS, storeS, commitS)
	}
	recordCeiling(ceilS, v1, ceil)
	recordCeiling(storeS, v1, storeCeil)
	if res.Status == "failed" {
		return
	}

	// First commit.
	r := commitS.res
	res.CachesDropped = commitS.dropped
	if r.Err != nil {
		markFailed(res, "first commit: %s", r.errLine())
		return
	}
	if commitS.note != "" {
		res.Notes = append(res.Notes, commitS.note)
	}
	if ds.attributes != "" && r.Seconds < shortRun {
		// The same, without the table check, into fresh stores.
		fresh := func() (runResult, bool) {
			if err := os.RemoveAll(dxDir); err != nil {
				return runResult{Err: err}, false
			}
			if r := b.rn.run(repo, nil, b.cfg.dx, "init"); r.Err != nil {
				return r, false
			}
			return b.timed(repo, "commit", "--quiet", "--no-verify", "-m", "v1")
		}
		u, _ := fresh()
		if u.Err == nil {
			u, _ = b.median(u, fresh)
		}
		if u.Err == nil {
			res.UncheckedSeconds = new(u.Seconds)
			logf("  dx first commit without the table check: %.2fs (checked: %.2fs)", u.Seconds, r.Seconds)
		}
		// The store the rest measures is a checked commit's.
		if err := os.RemoveAll(dxDir); err == nil {
			if ir := b.rn.run(repo, nil, b.cfg.dx, "init"); ir.Err == nil {
				b.rn.run(repo, nil, b.cfg.dx, "commit", "--quiet", "-m", "v1")
			}
		}
	}
	stored, err := dirSize(dxDir)
	if err != nil {
		markFailed(res, "sizing .dx: %v", err)
		return
	}
	res.FirstSeconds = new(r.Seconds)
	res.FirstMBps = new(mbps(v1.Bytes, r.Seconds))
	res.FirstStoredBytes = new(stored)
	res.FirstRSSKiB = new(r.MaxRSSKiB)
	res.PeakRSSKiB = new(r.MaxRSSKiB)
	logf("  dx first commit: %.1f MB/s, stored %s (%.1f%% of input)", *res.FirstMBps, human(stored), 100*float64(stored)/float64(max(1, v1.Bytes)))

	// No-change re-commit.
	r, _ = b.timed(repo, "commit", "--quiet", "-m", "again")
	if r.Err != nil && !nothingToCommit(r) {
		markFailed(res, "no-change re-commit: %s", r.errLine())
		return
	}
	if r.Err != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("no-change re-commit exited %d with \"nothing to commit\"", r.ExitCode))
	}
	res.RecommitSeconds = new(r.Seconds)
	res.RecommitRatio = new(r.Seconds / *res.FirstSeconds)
	res.PeakRSSKiB = new(max(*res.PeakRSSKiB, r.MaxRSSKiB))
	logf("  dx no-change re-commit: %.2fs = %.1f%% of first commit", r.Seconds, 100*(*res.RecommitRatio))

	if ds.applyV2 == nil {
		return
	}
	// Second version.
	before, err := dirSize(dxDir)
	if err != nil {
		markFailed(res, "sizing .dx: %v", err)
		return
	}
	v2, err := b.gen(ds.name+" v2 in place", func() (genInfo, error) { return ds.applyV2(repo) })
	if err != nil {
		markFailed(res, "generating v2: %v", err)
		return
	}
	dr.V2Bytes, dr.V2Files, dr.V2Desc = v2.Bytes, v2.Files, v2.Edits
	r, _ = b.timed(repo, "commit", "--quiet", "-m", "v2")
	if r.Err != nil {
		markFailed(res, "second commit: %s", r.errLine())
		return
	}
	after, err := dirSize(dxDir)
	if err != nil {
		markFailed(res, "sizing .dx: %v", err)
		return
	}
	res.SecondSeconds = new(r.Seconds)
	res.GrowthBytes = new(after - before)
	res.GrowthPct = new(100 * float64(after-before) / float64(max(1, stored)))
	res.PeakRSSKiB = new(max(*res.PeakRSSKiB, r.MaxRSSKiB))
	logf("  dx second commit: %.2fs, store grew %s = %.2f%% of first", r.Seconds, human(after-before), *res.GrowthPct)

	if ds.attributes != "" {
		res.RowDiff = b.rowDiff(repo, v2)
		if strings.HasPrefix(ds.name, "parquet") && res.RowDiff != nil {
			res.RowDiff.DuckDB = b.duckdbRowDiff(ds, repo, res.RowDiff)
		}
	}
	if ds.name == "dolt" {
		res.Dialect = b.otherDialect(ds, repo, false)
		res.DialectQuoted = b.otherDialect(ds, repo, true)
	}
	if ds.name == "table" && b.uiSelected() {
		b.uiTable(b.rn.ctx, repo, ds.tablePath)
	}
	if ds.name == "table" {
		res.Contract = b.contract(ds, repo, v2.Bytes)
		res.Profile = b.profile(ds, repo)
	}

	// Checkout into an emptied worktree (its files moved aside, deleted
	// once this dataset's measurements are done), round by round with the
	// restore ceiling (interleave), which its row compares it with.
	var asides []func()
	defer func() {
		for _, drop := range asides {
			drop()
		}
	}()
	checkoutS := &series{run: func() (runResult, bool) {
		drop, err := setAside(repo, ".dx")
		if err != nil {
			return runResult{Err: fmt.Errorf("emptying worktree: %w", err)}, false
		}
		asides = append(asides, drop)
		return b.timed(repo, "checkout", "--quiet", "--force", "HEAD")
	}}
	restoreS, restored := b.restoreCeilingSeries(repo, &asides)
	b.interleave(checkoutS, restoreS)
	r = checkoutS.res
	if r.Err != nil {
		markFailed(res, "checkout: %s", r.errLine())
		return
	}
	if checkoutS.note != "" {
		res.Notes = append(res.Notes, "checkout "+checkoutS.note)
	}
	res.CheckoutSeconds = new(r.Seconds)
	res.CheckoutMBps = new(mbps(v2.Bytes, r.Seconds))
	res.CheckoutRSSKiB = new(r.MaxRSSKiB)
	res.PeakRSSKiB = new(max(*res.PeakRSSKiB, r.MaxRSSKiB))
	logf("  dx checkout: %.1f MB/s; verifying restored worktree ...", *res.CheckoutMBps)
	res.Verify = b.verify(ds, repo)
	logf("  checkout verification: %s", res.Verify)
	if res.Verify != "OK" {
		res.Status = "wrong checkout"
	}
	res.RestoreCeilingMBps = restored()
	if ds.name == "table" {
		res.Switch = b.switchVersions(repo, ds.tablePath)
		res.InPlace = b.inPlaceSwitch(repo, ds.tablePath, filepath.Dir(repo), "here")
		res.Extents = b.extentSwitch(repo, ds.tablePath)
	}
	if ds.writeBranches != nil {
		res.Merge = b.merge(ds, repo)
	}
	return
}

// markFailed marks r failed with the error given, and logs it.
func markFailed(r *Result, format string, args ...any) {
	r.Status = "failed"
	r.Error = fmt.Sprintf(format, args...)
	logf("  %s FAILED: %s", r.Tool, r.Error)
}

// verify checks the worktree against v2 freshly generated: "OK", or
// "FAIL: " and the first difference.
func (b *bench) verify(ds *dataset, repo string) string {
	want, err := ds.expectV2()
	if err != nil {
		return "FAIL: generating expected data: " + err.Error()
	}
	got, err := hashTree(repo, ".dx")
	if err != nil {
		return "FAIL: " + err.Error()
	}
	if d := compareTrees(want, got); d != "" {
		return "FAIL: " + d
	}
	return "OK"
}

// restoreCeilingSeries times dx debug restore-ceiling of HEAD (page cache
// dropped, as for the checkout). Its files are kept, like the checkout's,
// and removed with the asides once the dataset is done, so that no timed
// run follows a mass removal (ext4's creates slow for minutes after one).
// After the series has run, result gives the MB/s of its median run, or
// nil when it failed.
func (b *bench) restoreCeilingSeries(repo string, asides *[]func()) (s *series, result func() *float64) {
	var bytes int64
	s = &series{run: func() (runResult, bool) {
		r, dropped := b.timed(repo, "debug", "restore-ceiling", "--keep", "HEAD")
		var out struct {
			Bytes int64  `json:"bytes"`
			Dir   string `json:"dir"`
		}
		if r.Err == nil {
			if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
				r.Err = err
			}
		}
		if out.Dir != "" {
			*asides = append(*asides, func() { os.RemoveAll(out.Dir) })
		}
		bytes = out.Bytes
		logf("  restore ceiling: %.2fs", r.Seconds)
		return r, dropped
	}}
	return s, func() *float64 {
		r := s.res
		if r.Err != nil {
			logf("  restore ceiling: %s", r.errLine())
			return nil
		}
		m := mbps(bytes, r.Seconds)
		logf("  restore ceiling: %.1f MB/s (%s in %.2fs; %s)", m, human(bytes), r.Seconds, s.note)
		return &m
	}
}
