// Command bench measures dx against its performance targets and against
// peer tools (restic, borg, git-lfs) on generated, deterministic data.
//
//	go run ./bench -dx ./dx                 # full run (scale 1.0)
//	go run ./bench -dx ./dx -scale 0.02     # smoke test, well under a minute
//
// It writes a Markdown report (-out) and the same numbers as JSON (-json).
// See bench/README.md for details.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

var start = time.Now()

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%8.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
}

type config struct {
	dx       string
	dir      string
	keep     bool
	scale    float64
	seed     uint64
	out      string
	jsonOut  string
	peers    []string
	skipBig  bool
	drop     int
	timeout  time.Duration
	verbose  bool
	only     map[string]bool
	mkTemp   bool
	datasets []*dataset
	remote   string // yes, no, only
	minio    string
}

func main() {
	var c config
	var peers, only string
	flag.StringVar(&c.dx, "dx", "", "path to the dx binary (required)")
	flag.StringVar(&c.dir, "dir", "", "work directory (default: a fresh temp dir, removed at the end unless -keep)")
	flag.BoolVar(&c.keep, "keep", false, "keep the work directory and every repo in it")
	flag.Float64Var(&c.scale, "scale", 1.0, "multiply every data size (0.02 = quick smoke test)")
	flag.Uint64Var(&c.seed, "seed", 20240601, "seed of the data generators")
	flag.StringVar(&c.out, "out", "bench/RESULTS.md", "Markdown report path")
	flag.StringVar(&c.jsonOut, "json", "bench/results.json", "JSON results path")
	flag.StringVar(&peers, "peers", "restic,borg,git-lfs", "comma-separated peer tools to compare (used only if installed; \"\" for none)")
	flag.BoolVar(&c.skipBig, "skip-big", false, "skip the 4 GiB single-file peak-RSS run")
	flag.IntVar(&c.drop, "drop-caches", 1, "value written to /proc/sys/vm/drop_caches before each timed run (0 = don't drop)")
	flag.DurationVar(&c.timeout, "timeout", 2*time.Hour, "limit for any one command")
	flag.BoolVar(&c.verbose, "v", false, "log every command run")
	flag.StringVar(&only, "only", "", "comma-separated datasets to run (table,dolt,small,big; default all)")
	flag.StringVar(&c.remote, "remote", "yes", "the remote benchmark against a local MinIO: yes, no, or only (skip the local measurements)")
	flag.StringVar(&c.minio, "minio", "", "MinIO server binary for the remote benchmark (default $DX_MINIO_BIN, else `bash scripts/minio.sh path`)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: go run ./bench -dx PATH [flags]\n\nflags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		fatalf("unexpected arguments: %v", flag.Args())
	}
	if c.dx == "" {
		flag.Usage()
		fatalf("-dx is required")
	}
	if c.scale <= 0 {
		fatalf("-scale must be > 0")
	}
	if c.remote != "yes" && c.remote != "no" && c.remote != "only" {
		fatalf("-remote must be yes, no or only")
	}
	if c.drop != 0 && c.drop != 1 && c.drop != 2 && c.drop != 3 {
		fatalf("-drop-caches must be 0, 1, 2 or 3")
	}
	path, err := exec.LookPath(c.dx)
	if err != nil {
		fatalf("-dx %s: %v", c.dx, err)
	}
	if c.dx, err = filepath.Abs(path); err != nil {
		fatalf("%v", err)
	}
	for _, p := range strings.Split(peers, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if peerByName(p) == nil {
			fatalf("-peers: unknown peer %q (known: restic, borg, git-lfs)", p)
		}
		c.peers = append(c.peers, p)
	}
	if only != "" {
		c.only = map[string]bool{}
		for _, d := range strings.Split(only, ",") {
			d = strings.TrimSpace(d)
			if d != "table" && d != "dolt" && d != "small" && d != "big" {
				fatalf("-only: unknown dataset %q", d)
			}
			c.only[d] = true
		}
	}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "dx-bench-"); err != nil {
			fatalf("%v", err)
		}
		c.mkTemp = true
	} else if err := os.MkdirAll(c.dir, 0o755); err != nil {
		fatalf("%v", err)
	}
	if c.dir, err = filepath.Abs(c.dir); err != nil {
		fatalf("%v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := run(ctx, &c)
	if c.mkTemp && !c.keep {
		logf("removing %s", c.dir)
		os.RemoveAll(c.dir)
	} else {
		logf("work directory kept: %s", c.dir)
	}
	os.Exit(code)
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(2)
}

// bench holds the state of one run.
type bench struct {
	cfg  *config
	rn   *runner
	drop *cacheDropper
	rep  *Report
	// lastDrop: whether the last cache drop before a timed run worked
	lastDrop bool
}

func run(ctx context.Context, c *config) int {
	tableSize := int64(float64(1<<30) * c.scale)
	smallFiles := max(1, int(20000*c.scale+0.5))
	bigSize := int64(float64(4<<30) * c.scale)

	b := &bench{
		cfg:  c,
		rn:   &runner{ctx: ctx, timeout: c.timeout, verbose: c.verbose},
		drop: &cacheDropper{level: c.drop},
	}
	b.rep = &Report{
		Machine:   machineInfo(c.dir),
		Command:   append([]string{"go run ./bench"}, os.Args[1:]...),
		DX:        c.dx,
		DXVersion: b.dxVersion(),
		Scale:     c.scale,
		Seed:      c.seed,
		SkipBig:   c.skipBig,
		Started:   start.UTC().Format(time.RFC3339),
	}
	m := b.rep.Machine
	logf("dx bench: scale %g, work dir %s (%s free), %d CPUs, %s RAM", c.scale, c.dir, m.WorkFS, m.NProc, m.MemTotal)

	want := []*dataset{tableDataset(c.seed, tableSize), doltDataset(c.seed, int64(134e6*c.scale)), smallDataset(c.seed, smallFiles)}
	if !c.skipBig {
		want = append(want, bigDataset(c.seed, bigSize))
	}
	for _, ds := range want {
		if c.only == nil || c.only[ds.name] {
			c.datasets = append(c.datasets, ds)
		}
	}
	if need := tableSize*4 + bigSize*2 + int64(smallFiles)*(40<<10)*2; freeBytes(c.dir) >= 0 && freeBytes(c.dir) < need {
		logf("warning: %s has %s free; this run may need about %s", c.dir, human(freeBytes(c.dir)), human(need))
	}

	for _, name := range c.peers {
		b.rep.Peers = append(b.rep.Peers, detectPeer(peerByName(name)))
	}
	for _, p := range b.rep.Peers {
		if p.Installed {
			logf("peer %s: %s", p.Name, p.Version)
		} else {
			logf("peer %s: not installed (%s)", p.Name, p.Missing)
		}
	}

	for _, ds := range c.datasets {
		if ctx.Err() != nil || c.remote == "only" {
			break
		}
		b.runDataset(ctx, ds)
		b.writeReports(false)
	}
	if ctx.Err() == nil {
		b.runRemote(ctx)
	}
	b.rep.Interrupted = ctx.Err() != nil
	b.writeReports(true)
	if b.rep.Interrupted {
		logf("interrupted")
		return 130
	}
	logf("done: %s", b.rep.Summary)
	return 0
}

func (b *bench) dxVersion() string {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		old := b.rn.timeout
		b.rn.timeout = 10 * time.Second
		r := b.rn.run(b.cfg.dir, nil, b.cfg.dx, args...)
		b.rn.timeout = old
		if r.Err == nil && firstOutputLine(r.Stdout) != "" {
			return firstOutputLine(r.Stdout)
		}
	}
	return ""
}

func (b *bench) writeReports(final bool) {
	b.rep.Finished = time.Now().UTC().Format(time.RFC3339)
	b.rep.ElapsedSeconds = time.Since(start).Seconds()
	b.rep.Complete = final && !b.rep.Interrupted
	b.rep.CacheDrop = b.drop.summary()
	b.rep.CachesDropped = b.drop.ok > 0 && b.drop.fail == 0
	b.rep.evaluate()
	for _, w := range []struct {
		path string
		data func() ([]byte, error)
	}{
		{b.cfg.out, func() ([]byte, error) { return []byte(b.rep.Markdown()), nil }},
		{b.cfg.jsonOut, func() ([]byte, error) {
			j, err := json.MarshalIndent(b.rep, "", "  ")
			return append(j, '\n'), err
		}},
	} {
		if w.path == "" {
			continue
		}
		data, err := w.data()
		if err == nil {
			if dir := filepath.Dir(w.path); dir != "." {
				err = os.MkdirAll(dir, 0o755)
			}
		}
		if err == nil {
			err = os.WriteFile(w.path, data, 0o644)
		}
		if err != nil {
			logf("error writing %s: %v", w.path, err)
		} else if final {
			logf("wrote %s", w.path)
		}
	}
}

// runDataset measures the ceiling, dx and every installed peer on ds.
func (b *bench) runDataset(ctx context.Context, ds *dataset) {
	dr := &DatasetResult{Name: ds.name, Title: ds.title}
	b.rep.Datasets = append(b.rep.Datasets, dr)
	dsDir := filepath.Join(b.cfg.dir, "dxbench-"+ds.name)
	os.RemoveAll(dsDir)
	logf("=== dataset %s: %s", ds.name, ds.title)

	dxr, ceil := b.measureDX(ds, dr, filepath.Join(dsDir, "dx"))
	dr.Results = append(dr.Results, dxr, ceil)
	b.cleanup(filepath.Join(dsDir, "dx"))

	if ds.withPeers {
		for _, p := range b.rep.Peers {
			if ctx.Err() != nil {
				break
			}
			res := &Result{Tool: p.Name, Version: p.Version}
			dr.Results = append(dr.Results, res)
			if !p.Installed {
				res.Status = "not installed"
				continue
			}
			b.measurePeer(ds, peerByName(p.Name), res, filepath.Join(dsDir, p.Name))
			b.cleanup(filepath.Join(dsDir, p.Name))
			b.writeReports(false)
		}
	} else if len(b.rep.Peers) > 0 {
		dr.Notes = append(dr.Notes, peersSkipped(ds.name))
	}
	b.cleanup(dsDir)
}

func (b *bench) cleanup(dir string) {
	if b.cfg.keep {
		return
	}
	if err := os.RemoveAll(dir); err != nil {
		logf("warning: removing %s: %v", dir, err)
	}
}

// gen runs a generator step with progress output.
func (b *bench) gen(what string, f func() (genInfo, error)) (genInfo, error) {
	logf("  generating %s ...", what)
	t := time.Now()
	g, err := f()
	s := time.Since(t).Seconds()
	if err != nil {
		logf("  generating %s failed: %v", what, err)
		return g, err
	}
	logf("  generated %s: %s in %d files, %.1fs (%.0f MB/s)", what, human(g.Bytes), g.Files, s, mbps(g.Bytes, s))
	return g, nil
}

func mbps(n int64, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return float64(n) / 1e6 / seconds
}

// timed drops caches, then runs one dx command in repo.
func (b *bench) timed(repo string, args ...string) (runResult, bool) {
	dropped := b.drop.drop()
	logf("  dx %s ...", strings.Join(args, " "))
	r := b.rn.run(repo, nil, b.cfg.dx, args...)
	if r.Err != nil {
		logf("  dx %s: %s (%.1fs)", args[0], r.errLine(), r.Seconds)
	} else {
		logf("  dx %s: %.2fs, peak RSS %.0f MiB", args[0], r.Seconds, float64(r.MaxRSSKiB)/1024)
	}
	return r, dropped
}

// shortRun: a ceiling, first commit or merge timed under this many
// seconds is run three times and its median taken (as hyperfine would):
// on these virtual machines the same run varies by 10–25% from one minute
// to the next, and under a second start-up and the final sync weigh in
// too. (Only the 4 GiB file, ~15 s a run, is run once.)
const shortRun = 10.0

// median runs again twice more and returns the run with the median time,
// and a note of all three times. A failed run is returned as it is.
func (b *bench) median(first runResult, again func() (runResult, bool)) (runResult, string) {
	runs := []runResult{first}
	for range 2 {
		r, _ := again()
		if r.Err != nil {
			return r, ""
		}
		runs = append(runs, r)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].Seconds < runs[j].Seconds })
	return runs[1], fmt.Sprintf("median of 3 runs: %.2f, %.2f, %.2f s", runs[0].Seconds, runs[1].Seconds, runs[2].Seconds)
}

// measureDX runs the dx sequence on ds in a fresh repo: init, v1, ceiling,
// first commit, no-change re-commit, v2 + second commit, checkout + verify.
func (b *bench) measureDX(ds *dataset, dr *DatasetResult, repo string) (res, ceil *Result) {
	res = &Result{Tool: "dx", Version: b.rep.DXVersion, Status: "ok"}
	ceil = &Result{Tool: "ceiling", Status: "ok"}
	fail := func(r *Result, format string, args ...any) {
		r.Status = "failed"
		r.Error = fmt.Sprintf(format, args...)
		logf("  %s FAILED: %s", r.Tool, r.Error)
	}
	if err := os.MkdirAll(repo, 0o755); err != nil {
		fail(res, "%v", err)
		fail(ceil, "%v", err)
		return
	}
	if r := b.rn.run(repo, nil, b.cfg.dx, "init"); r.Err != nil {
		fail(res, "dx init: %s", r.errLine())
	}
	if ds.attributes != "" {
		if err := os.WriteFile(filepath.Join(repo, ".dxattributes"), []byte(ds.attributes), 0o644); err != nil {
			fail(res, "%v", err)
		}
	}
	v1, err := b.gen(ds.name+" v1 into the dx worktree", func() (genInfo, error) { return ds.genV1(repo) })
	if err != nil {
		fail(res, "generating v1: %v", err)
		fail(ceil, "generating v1: %v", err)
		return
	}
	dr.V1Bytes, dr.V1Files, dr.V1Desc = v1.Bytes, v1.Files, v1.Edits

	// Ceiling.
	r, dropped := b.timed(repo, append([]string{"debug", "ceiling"}, ds.paths...)...)
	if r.Err == nil && r.Seconds < shortRun {
		var note string
		r, note = b.median(r, func() (runResult, bool) {
			return b.timed(repo, append([]string{"debug", "ceiling"}, ds.paths...)...)
		})
		ceil.Notes = append(ceil.Notes, note)
	}
	ceil.CachesDropped = dropped
	if r.Err != nil {
		fail(ceil, "dx debug ceiling: %s", r.errLine())
	} else if cj, err := parseCeiling(r.Stdout + "\n" + r.Stderr); err != nil {
		fail(ceil, "dx debug ceiling: %v", err)
	} else {
		// Wall clock of the whole command, like every other row: it
		// too lists the files and starts a process. (Until 2026-11-26
		// this was the in-process ingest time only, which left dx's
		// walk of the worktree and its start-up against it.)
		ceil.FirstSeconds = new(r.Seconds)
		ceil.FirstMBps = new(mbps(cj.Bytes, r.Seconds))
		ceil.FirstStoredBytes = new(cj.StoredBytes)
		ceil.Notes = append(ceil.Notes, fmt.Sprintf("ingest alone %.2f s", cj.Seconds))
		ceil.PeakRSSKiB = new(r.MaxRSSKiB)
		if cj.Bytes != v1.Bytes {
			ceil.Notes = append(ceil.Notes, fmt.Sprintf("ceiling read %d bytes, data is %d", cj.Bytes, v1.Bytes))
		}
		logf("  ceiling: %.1f MB/s (%s in %.2fs, ingest alone %.2fs; would store %s)", *ceil.FirstMBps, human(cj.Bytes), r.Seconds, cj.Seconds, human(cj.StoredBytes))
	}
	if res.Status == "failed" {
		return
	}

	// First commit.
	dxDir := filepath.Join(repo, ".dx")
	r, dropped = b.timed(repo, "commit", "--quiet", "-m", "v1")
	res.CachesDropped = dropped
	if r.Err != nil {
		fail(res, "first commit: %s", r.errLine())
		return
	}
	if r.Seconds < shortRun {
		// Again into a fresh store each time.
		var note string
		r, note = b.median(r, func() (runResult, bool) {
			if err := os.RemoveAll(dxDir); err != nil {
				return runResult{Err: err}, false
			}
			if r := b.rn.run(repo, nil, b.cfg.dx, "init"); r.Err != nil {
				return r, false
			}
			return b.timed(repo, "commit", "--quiet", "-m", "v1")
		})
		if r.Err != nil {
			fail(res, "first commit, repeated: %s", r.errLine())
			return
		}
		res.Notes = append(res.Notes, note)
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
		fail(res, "sizing .dx: %v", err)
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
		fail(res, "no-change re-commit: %s", r.errLine())
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
		fail(res, "sizing .dx: %v", err)
		return
	}
	v2, err := b.gen(ds.name+" v2 in place", func() (genInfo, error) { return ds.applyV2(repo) })
	if err != nil {
		fail(res, "generating v2: %v", err)
		return
	}
	dr.V2Bytes, dr.V2Files, dr.V2Desc = v2.Bytes, v2.Files, v2.Edits
	r, _ = b.timed(repo, "commit", "--quiet", "-m", "v2")
	if r.Err != nil {
		fail(res, "second commit: %s", r.errLine())
		return
	}
	after, err := dirSize(dxDir)
	if err != nil {
		fail(res, "sizing .dx: %v", err)
		return
	}
	res.SecondSeconds = new(r.Seconds)
	res.GrowthBytes = new(after - before)
	res.GrowthPct = new(100 * float64(after-before) / float64(max(1, stored)))
	res.PeakRSSKiB = new(max(*res.PeakRSSKiB, r.MaxRSSKiB))
	logf("  dx second commit: %.2fs, store grew %s = %.2f%% of first", r.Seconds, human(after-before), *res.GrowthPct)

	if ds.attributes != "" {
		res.RowDiff = b.rowDiff(repo, v2)
	}

	// Checkout into an emptied worktree.
	if err := clearWorktree(repo, ".dx"); err != nil {
		fail(res, "emptying worktree: %v", err)
		return
	}
	r, _ = b.timed(repo, "checkout", "--quiet", "--force", "HEAD")
	if r.Err != nil {
		fail(res, "checkout: %s", r.errLine())
		return
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
	if ds.writeBranches != nil {
		res.Merge = b.merge(ds, repo)
	}
	return
}

// merge makes two branches off v1 that each update a disjoint ~0.01% of
// the rows, times merging one into the other, and checks the result
// byte for byte.
func (b *bench) merge(ds *dataset, repo string) *MergeResult {
	m := &MergeResult{}
	step := func(args ...string) bool {
		if r := b.rn.run(repo, nil, b.cfg.dx, args...); r.Err != nil {
			m.Error = fmt.Sprintf("dx %s: %s", strings.Join(args, " "), r.errLine())
			logf("  dx merge FAILED: %s", m.Error)
			return false
		}
		return true
	}
	if !step("branch", "merge-a", "HEAD~1") || !step("branch", "merge-b", "HEAD~1") || !step("checkout", "--quiet", "--force", "merge-a") {
		return m
	}
	st, err := ds.writeBranches(repo, true, false)
	if err != nil {
		m.Error = err.Error()
		return m
	}
	m.RowsOurs = st.Updated
	if !step("commit", "--quiet", "-m", "branch a") || !step("checkout", "--quiet", "merge-b") {
		return m
	}
	if st, err = ds.writeBranches(repo, false, true); err != nil {
		m.Error = err.Error()
		return m
	}
	m.RowsTheirs = st.Updated
	if !step("commit", "--quiet", "-m", "branch b") || !step("checkout", "--quiet", "merge-a") || !step("branch", "merge-warm", "merge-a") || !step("branch", "merge-a0", "merge-a") {
		return m
	}
	r, _ := b.timed(repo, "merge", "--json", "merge-b")
	if r.Err != nil {
		m.Error = "dx merge: " + r.errLine()
		logf("  dx merge FAILED: %s", m.Error)
		return m
	}
	m.Seconds, m.PeakRSSKiB = r.Seconds, r.MaxRSSKiB
	if m.Applied, m.UnreadRuns, m.Conflicts, err = mergeApplied(r.Stdout); err != nil {
		m.Error = "dx merge --json: " + err.Error()
		return m
	}
	want, err := ds.hashMerged()
	if err != nil {
		m.Error = err.Error()
		return m
	}
	got, err := hashFile(filepath.Join(repo, ds.tablePath), make([]byte, 1<<20))
	if err != nil {
		m.Error = err.Error()
		return m
	}
	// Rows in runs taken unread are not counted: then fewer.
	m.Correct = got == want && (m.Applied == m.RowsTheirs || m.UnreadRuns > 0 && m.Applied < m.RowsTheirs)
	logf("  dx merge: %.2fs, %d rows applied and %d runs taken unread (branches %d + %d), %d conflicts, result exact: %v", m.Seconds, m.Applied, m.UnreadRuns, m.RowsOurs, m.RowsTheirs, m.Conflicts, m.Correct)
	m.Into = b.mergeInto(repo)
	// The same merge again from the same state (a copy of merge-a from
	// before it), the page cache left warm.
	if step("checkout", "--quiet", "merge-warm") {
		if r := b.rn.run(repo, nil, b.cfg.dx, "merge", "--quiet", "merge-b"); r.Err == nil {
			m.WarmSeconds = r.Seconds
			logf("  dx merge again, page cache warm: %.2fs", r.Seconds)
		}
		step("checkout", "--quiet", "merge-a")
	}
	m.Delta = b.delta(repo)
	return m
}

// mergeApplied reads `dx merge --json`: the rows applied to the tables,
// and the conflicts.
// unread counts the runs of chunks taken whole unread (their rows are
// not counted in applied).
func mergeApplied(stdout string) (applied int64, unread, conflicts int, err error) {
	var out struct {
		Tables []struct {
			Added, Changed, Removed int64
			UnreadRuns              int `json:"unread_runs"`
		}
		Conflicts []any
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		return 0, 0, 0, err
	}
	for _, t := range out.Tables {
		applied += t.Added + t.Changed + t.Removed
		unread += t.UnreadRuns
	}
	return applied, unread, len(out.Conflicts), nil
}

// mergeInto times the same merge into merge-into, a copy of merge-a from
// before it (merge-a0) that is not checked out, and checks that it makes
// the tree the merge in the worktree made. Short, it is timed three times
// (merge-into made again from merge-a0 each time) and the median taken.
func (b *bench) mergeInto(repo string) *MergeIntoResult {
	in := &MergeIntoResult{}
	reset := func() runResult {
		for _, args := range [][]string{{"branch", "-D", "merge-into"}, {"branch", "merge-into", "merge-a0"}} {
			if r := b.rn.run(repo, nil, b.cfg.dx, args...); r.Err != nil && args[1] != "-D" {
				return r
			}
		}
		return runResult{}
	}
	once := func() (runResult, bool) {
		if r := reset(); r.Err != nil {
			return r, false
		}
		return b.timed(repo, "merge", "--json", "--into", "merge-into", "merge-b")
	}
	r, _ := once()
	in.Note = "one run"
	if r.Err == nil && r.Seconds < shortRun {
		r, in.Note = b.median(r, once)
	}
	if r.Err != nil {
		in.Error = "dx merge --into: " + r.errLine()
		logf("  dx merge --into FAILED: %s", in.Error)
		return in
	}
	in.Seconds, in.PeakRSSKiB = r.Seconds, r.MaxRSSKiB
	var err error
	if in.Applied, in.UnreadRuns, _, err = mergeApplied(r.Stdout); err != nil {
		in.Error = "dx merge --into --json: " + err.Error()
		return in
	}
	d := b.rn.run(repo, nil, b.cfg.dx, "diff", "--json", "merge-into", "merge-a")
	if d.Err != nil {
		in.Error = "dx diff: " + d.errLine()
		return in
	}
	var changes []any
	if err := json.Unmarshal([]byte(d.Stdout), &changes); err != nil {
		in.Error = "dx diff --json: " + err.Error()
		return in
	}
	in.Correct = len(changes) == 0
	logf("  dx merge --into: %.2fs, %d rows applied and %d runs taken unread, same tree as the merge in the worktree: %v", in.Seconds, in.Applied, in.UnreadRuns, in.Correct)
	// Again with the page cache left warm (the median of three).
	warm := func() (runResult, bool) {
		if r := reset(); r.Err != nil {
			return r, false
		}
		return b.rn.run(repo, nil, b.cfg.dx, "merge", "--json", "--into", "merge-into", "merge-b"), false
	}
	if w, _ := warm(); w.Err == nil {
		if w, _ = b.median(w, warm); w.Err == nil {
			in.WarmSeconds = w.Seconds
			logf("  dx merge --into, page cache warm: %.2fs", w.Seconds)
		}
	}
	return in
}

// delta registers a model trained on the table's first version (merge-b's
// parent) and times `dx delta` up to merge-b, whose ~0.01% update is what
// a retraining would read.
func (b *bench) delta(repo string) *DeltaResult {
	dl := &DeltaResult{}
	art := filepath.Join(filepath.Dir(repo), "bench-model.bin")
	if err := os.WriteFile(art, []byte("a model\n"), 0o644); err != nil {
		dl.Error = err.Error()
		return dl
	}
	defer os.Remove(art)
	if r := b.rn.run(repo, nil, b.cfg.dx, "model", "register", "bench-model", "--artifact", art, "--data", "merge-b~1"); r.Err != nil {
		dl.Error = "dx model register: " + r.errLine()
		return dl
	}
	r, _ := b.timed(repo, "delta", "--format", "jsonl", "bench-model", "merge-b")
	if r.Err != nil {
		dl.Error = "dx delta: " + r.errLine()
		return dl
	}
	dl.Seconds = r.Seconds
	r = b.rn.run(repo, nil, b.cfg.dx, "delta", "--stat", "--json", "bench-model", "merge-b")
	if r.Err != nil {
		dl.Error = "dx delta --stat: " + r.errLine()
		return dl
	}
	var files []rowDiffFile
	if err := json.Unmarshal([]byte(r.Stdout), &files); err != nil {
		dl.Error = "dx delta --json: " + err.Error()
		return dl
	}
	for _, f := range files {
		if f.Table {
			dl.Changed += f.Changed
			dl.BytesTotal += f.Stats.BytesTotal
			dl.BytesRead += f.Stats.BytesRead
			dl.BytesParsed += f.Stats.BytesParsed
		}
	}
	logf("  dx delta of the model's data up to merge-b: %.2fs, %d rows changed, parsed %s, read %s of %s", dl.Seconds, dl.Changed, human(dl.BytesParsed), human(dl.BytesRead), human(dl.BytesTotal))
	return dl
}

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

type ceilingJSON struct {
	Bytes       int64   `json:"bytes"`
	Seconds     float64 `json:"seconds"`
	StoredBytes int64   `json:"stored_bytes"`
}

// parseCeiling reads the last JSON object line of dx debug ceiling's output.
func parseCeiling(out string) (ceilingJSON, error) {
	var cj ceilingJSON
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(l, "{") {
			continue
		}
		if err := json.Unmarshal([]byte(l), &cj); err != nil {
			return cj, fmt.Errorf("bad JSON %q: %v", l, err)
		}
		if cj.Seconds <= 0 || cj.Bytes <= 0 {
			return cj, fmt.Errorf("implausible result %q", l)
		}
		return cj, nil
	}
	return cj, errors.New("no JSON line in output: " + firstOutputLine(out))
}

// rowDiffFile is one file of `dx diff --rows --stat --json` (and of
// `dx delta --stat --json`).
type rowDiffFile struct {
	Table   bool  `json:"table"`
	Added   int64 `json:"added"`
	Removed int64 `json:"removed"`
	Changed int64 `json:"changed"`
	Stats   struct {
		BytesTotal  int64 `json:"bytes_total"`
		BytesRead   int64 `json:"bytes_read"`
		BytesParsed int64 `json:"bytes_parsed"`
	} `json:"stats"`
}

// rowDiff times `dx diff --rows` between the two commits and checks its
// counts against what the generator did.
func (b *bench) rowDiff(repo string, v2 genInfo) *RowDiffResult {
	// Timed: every changed row written out (and discarded).
	r, _ := b.timed(repo, "diff", "--rows", "--format", "jsonl", "HEAD~1", "HEAD")
	if r.Err != nil {
		logf("  dx row diff FAILED: %s", r.errLine())
		return nil
	}
	seconds := r.Seconds
	// Counts and bytes read, from the summary.
	r = b.rn.run(repo, nil, b.cfg.dx, "--stats", "diff", "--rows", "--stat", "--json", "HEAD~1", "HEAD")
	if r.Err != nil {
		logf("  dx row diff --stat FAILED: %s", r.errLine())
		return nil
	}
	var files []rowDiffFile
	if err := json.Unmarshal([]byte(r.Stdout), &files); err != nil {
		logf("  dx row diff: bad JSON: %v", err)
		return nil
	}
	rd := &RowDiffResult{Seconds: seconds, Expected: fmt.Sprintf("+%d −%d ~%d", v2.RowsAdded, v2.RowsRemoved, v2.RowsChanged)}
	for _, f := range files {
		if !f.Table {
			continue
		}
		rd.Added += f.Added
		rd.Removed += f.Removed
		rd.Changed += f.Changed
		rd.BytesTotal += f.Stats.BytesTotal
		rd.BytesRead += f.Stats.BytesRead
		rd.BytesParsed += f.Stats.BytesParsed
	}
	// What it read from the store: --stats' counters, the last line of
	// stderr.
	var st struct {
		Stored int64 `json:"stored_bytes_read"`
	}
	lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &st); err != nil {
		logf("  dx row diff --stats: bad JSON: %v", err)
		return nil
	}
	rd.StoredRead = st.Stored
	rd.Correct = rd.Added == v2.RowsAdded && rd.Removed == v2.RowsRemoved && rd.Changed == v2.RowsChanged
	logf("  dx row diff: %.2fs, read %s of %s (%s from the store), parsed %s; +%d −%d ~%d (expected %s)", rd.Seconds,
		human(rd.BytesRead), human(rd.BytesTotal), human(rd.StoredRead), human(rd.BytesParsed), rd.Added, rd.Removed, rd.Changed, rd.Expected)
	return rd
}

// peersSkipped says why the peers are not run on a dataset.
func peersSkipped(name string) string {
	if name == "dolt" {
		return "Peers are not run on this dataset: it compares dx's row diff and merge with Dolt's figures at Dolt's table size."
	}
	return "Peers are not run on this dataset: it only checks dx's throughput and peak memory on one large file."
}
