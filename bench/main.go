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
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
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
	flag.StringVar(&only, "only", "", "comma-separated datasets or sections to run (table,parquet,parquet-cdc,dolt,small,big,ui; default all; parquet includes parquet-cdc); ui measures dx ui in tmux, on the table too when table is named")
	flag.StringVar(&c.remote, "remote", "yes", "the remote benchmark against a local MinIO: yes, no, only (skip the local measurements), or serve (only dx serve's figures, on the table's v2)")
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
	if c.remote != "yes" && c.remote != "no" && c.remote != "only" && c.remote != "serve" {
		fatalf("-remote must be yes, no, only or serve")
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
			if d != "table" && d != "parquet" && d != "parquet-cdc" && d != "dolt" && d != "small" && d != "many" && d != "big" && d != "ui" {
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
	manyFiles := max(1, int(200000*c.scale+0.5))
	bigSize := int64(float64(4<<30) * c.scale)

	b := &bench{
		cfg:  c,
		rn:   &runner{ctx: ctx, timeout: c.timeout, verbose: c.verbose},
		drop: &cacheDropper{level: c.drop},
	}
	b.rep = &Report{
		Machine:   machineInfo(c.dir),
		Command:   []string{"go run ./bench"},
		DX:        portable(c.dx),
		DXVersion: b.dxVersion(),
		Scale:     c.scale,
		Seed:      c.seed,
		SkipBig:   c.skipBig,
		Started:   start.UTC().Format(time.RFC3339),
	}
	for _, a := range os.Args[1:] {
		b.rep.Command = append(b.rep.Command, portable(a))
	}
	m := b.rep.Machine
	logf("dx bench: scale %g, work dir %s (%s free), %d CPUs, %s RAM", c.scale, c.dir, m.WorkFS, m.NProc, m.MemTotal)

	want := []*dataset{tableDataset(c.seed, tableSize), parquetDataset(c.seed, tableSize, false), parquetDataset(c.seed, tableSize, true), doltDataset(c.seed, int64(134e6*c.scale)), smallDataset(c.seed, smallFiles), manyDataset(c.seed, manyFiles)}
	if !c.skipBig {
		want = append(want, bigDataset(c.seed, bigSize))
	}
	for _, ds := range want {
		// "parquet" names both Parquet datasets: the growth with the
		// writer's CDC off and on are one figure.
		if c.only == nil || c.only[ds.name] || (ds.name == "parquet-cdc" && c.only["parquet"]) {
			c.datasets = append(c.datasets, ds)
		}
	}
	if need := tableSize*4 + bigSize*2 + int64(smallFiles)*(40<<10)*2 + int64(manyFiles)*(8<<10)*2; freeBytes(c.dir) >= 0 && freeBytes(c.dir) < need {
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
		if ctx.Err() != nil || c.remote == "only" || c.remote == "serve" {
			break
		}
		b.runDataset(ctx, ds)
		b.writeReports(false)
	}
	if ctx.Err() == nil && c.remote != "only" && c.remote != "serve" && b.uiSelected() {
		b.runUI(ctx)
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

// dxVersion asks the dx binary for its version ("" if it does not say).
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
