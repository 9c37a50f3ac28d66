package main

// The remote benchmark (issue 4): dx push, clone, incremental push and
// pull against a local MinIO, beside `aws s3 cp --recursive` of the same
// bytes and restic with its S3 backend, all in the same run against the
// same server.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/dxdata/dx/internal/minioproc"
)

// Buckets of the remote benchmark: one per tool, a prefix per dataset.
const (
	dxBucket     = "dx-bench"
	awsBucket    = "aws-bench"
	resticBucket = "restic-bench"
)

// awsPeer is the aws CLI, the baseline of the remote benchmark only.
var awsPeer = &peer{name: "aws", bins: []string{"aws"}, version: []string{"aws", "--version"}}

// ---------------------------------------------------------------- MinIO

// minioServer is the pinned MinIO (internal/minioproc) with a client for
// sizing what the tools stored.
type minioServer struct {
	*minioproc.Server
	client *minio.Client
}

// findMinio returns the MinIO binary: -minio, else $DX_MINIO_BIN, else
// where scripts/minio.sh caches it.
func findMinio(flagValue string) (string, error) {
	if flagValue != "" {
		if _, err := os.Stat(flagValue); err != nil {
			return "", fmt.Errorf("MinIO not installed (%v); build it with `make minio`", err)
		}
		return filepath.Abs(flagValue)
	}
	return minioproc.Binary()
}

// startMinio runs bin with its data and log under dir and waits until it
// answers its health check.
func startMinio(ctx context.Context, bin, dir string) (*minioServer, error) {
	s, err := minioproc.Start(ctx, bin, dir, "dxbench", "dxbench-secret-key")
	if err != nil {
		return nil, err
	}
	c, err := s.Client()
	if err != nil {
		s.Close()
		return nil, err
	}
	return &minioServer{Server: s, client: c}, nil
}

func (s *minioServer) stop() { s.Close() }

func (s *minioServer) endpoint() string { return "http://" + s.Endpoint }

func (s *minioServer) makeBucket(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return s.MakeBucket(ctx, name)
}

// size sums the sizes of the objects under prefix in bucket.
func (s *minioServer) size(ctx context.Context, bucket, prefix string) (bytes int64, objects int, err error) {
	for o := range s.client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return 0, 0, o.Err
		}
		bytes += o.Size
		objects++
	}
	return bytes, objects, nil
}

// remoteEnviron is the environment every command of the remote benchmark
// starts from: ours without AWS_* and RESTIC_* variables, plus the
// server's credentials, and AWS config files that do not exist, so the
// aws CLI runs with its defaults whatever this machine's ~/.aws holds.
func remoteEnviron(s *minioServer, dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "RESTIC_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"AWS_ACCESS_KEY_ID="+s.AccessKey,
		"AWS_SECRET_ACCESS_KEY="+s.SecretKey,
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+filepath.Join(dir, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "no-aws-credentials"),
	)
}

// ---------------------------------------------------------------- run

// runRemote runs the remote benchmark on the datasets that have a second
// version (the table and the small files).
func (b *bench) runRemote(ctx context.Context) {
	rr := &RemoteReport{Status: "ok"}
	b.rep.Remote = rr
	logf("=== remote: push, clone and incremental push against a local MinIO")
	if b.cfg.remote == "no" {
		rr.Status, rr.Error = "skipped", "-remote no"
		logf("  skipped (-remote no)")
		return
	}
	rr.AWS = detectPeer(awsPeer)
	rr.Restic = PeerInfo{Name: "restic", Missing: "not requested (-peers)"}
	for _, p := range b.rep.Peers {
		if p.Name == "restic" {
			rr.Restic = p
		}
	}
	for _, p := range []PeerInfo{rr.AWS, rr.Restic} {
		if p.Installed {
			logf("  %s: %s", p.Name, p.Version)
		} else {
			logf("  %s: not installed (%s)", p.Name, p.Missing)
		}
	}
	bin, err := findMinio(b.cfg.minio)
	if err != nil {
		rr.Status, rr.Error = "skipped", err.Error()
		logf("  skipped: %v", err)
		return
	}
	rr.MinIO = portable(bin)
	root := filepath.Join(b.cfg.dir, "dxbench-remote")
	os.RemoveAll(root)
	defer b.cleanup(root)
	// The regions benchmark reads the server's request counters.
	os.Setenv("MINIO_PROMETHEUS_AUTH_TYPE", "public")
	srv, err := startMinio(ctx, bin, filepath.Join(root, "minio"))
	if err != nil {
		rr.Status, rr.Error = "failed", "starting MinIO: "+err.Error()
		logf("  FAILED: %s", rr.Error)
		return
	}
	defer func() {
		logf("  stopping MinIO")
		srv.stop()
	}()
	rr.Endpoint = srv.endpoint()
	logf("  MinIO %s at %s", bin, rr.Endpoint)
	for _, bucket := range []string{dxBucket, awsBucket, resticBucket} {
		if err := srv.makeBucket(ctx, bucket); err != nil {
			rr.Status, rr.Error = "failed", err.Error()
			logf("  FAILED: %s", rr.Error)
			return
		}
	}
	for _, ds := range b.cfg.datasets {
		if ds.applyV2 == nil || !ds.withPeers || ds.noRemote {
			continue // the big file: a memory check only; Parquet: local only
		}
		if ctx.Err() != nil {
			break
		}
		if b.cfg.remote == "serve" {
			if ds.name == "table" {
				b.serveOnly(ctx, srv, ds, filepath.Join(root, ds.name))
			}
			continue
		}
		rd := &RemoteResult{Dataset: ds.name, Title: ds.title}
		rr.Datasets = append(rr.Datasets, rd)
		b.remoteDataset(ctx, srv, ds, rd, filepath.Join(root, ds.name))
		b.cleanup(filepath.Join(root, ds.name))
		b.writeReports(false)
	}
}

// remoteDataset measures dx, the aws CLI and restic on one dataset: v1 is
// generated and committed (untimed), pushed, cloned, copied up and down
// with the aws CLI and backed up by restic; then v2 is applied and
// committed (untimed), pushed, pulled into the clone and backed up.
func (b *bench) remoteDataset(ctx context.Context, srv *minioServer, ds *dataset, rd *RemoteResult, dir string) {
	logf("--- remote on %s", ds.name)
	// Whole JSON outputs: dx pull --json lists every file it changed.
	rn := &runner{ctx: ctx, timeout: b.cfg.timeout, verbose: b.cfg.verbose, baseEnv: remoteEnviron(srv, dir), outMax: 64 << 20}
	src := filepath.Join(dir, "src") // the dx repository; its worktree is the data
	clone := filepath.Join(dir, "clone")
	awsDown := filepath.Join(dir, "aws-download")
	ep := srv.endpoint()

	dx := &RemoteToolResult{Tool: "dx", Version: b.rep.DXVersion, Status: "ok"}
	aws := &RemoteToolResult{Tool: "aws", Version: b.rep.Remote.AWS.Version, Status: "ok"}
	restic := &RemoteToolResult{Tool: "restic", Version: b.rep.Remote.Restic.Version, Status: "ok"}
	rd.Results = []*RemoteToolResult{dx, aws, restic}
	// A wrong clone or pull shows in dx's status once every step has run
	// (the incremental push is measured all the same).
	defer func() {
		switch {
		case dx.Status != "ok":
		case dx.CloneVerify != "" && dx.CloneVerify != "OK":
			dx.Status = "wrong clone"
		case dx.PullVerify != "" && dx.PullVerify != "OK":
			dx.Status = "wrong pull"
		}
	}()
	if !b.rep.Remote.AWS.Installed {
		aws.Status = "not installed"
	}
	if !b.rep.Remote.Restic.Installed {
		restic.Status = "not installed"
		if strings.HasPrefix(b.rep.Remote.Restic.Missing, "not requested") {
			restic.Status = "not requested"
		}
	}
	fail := func(r *RemoteToolResult, format string, args ...any) {
		r.Status = "failed"
		r.Error = fmt.Sprintf(format, args...)
		logf("  %s FAILED: %s", r.Tool, r.Error)
	}
	failAll := func(format string, args ...any) {
		for _, r := range rd.Results {
			if r.Status == "ok" {
				fail(r, format, args...)
			}
		}
	}
	ok := func(r *RemoteToolResult) bool { return r.Status == "ok" && ctx.Err() == nil }
	rss := func(r *RemoteToolResult, kib int64) {
		if r.PeakRSSKiB == nil || kib > *r.PeakRSSKiB {
			r.PeakRSSKiB = new(kib)
		}
	}
	// timed drops caches, then runs one command.
	timed := func(r *RemoteToolResult, what, cwd string, args ...string) (runResult, bool) {
		dropped := b.drop.drop()
		logf("  %s %s ...", r.Tool, what)
		res := rn.run(cwd, nil, args[0], args[1:]...)
		if res.Err != nil {
			logf("  %s %s: %s (%.1fs)", r.Tool, what, res.errLine(), res.Seconds)
		} else {
			logf("  %s %s: %.2fs, peak RSS %.0f MiB", r.Tool, what, res.Seconds, float64(res.MaxRSSKiB)/1024)
		}
		rss(r, res.MaxRSSKiB)
		return res, dropped
	}
	remoteSize := func(bucket, prefix string) *int64 {
		n, _, err := srv.size(ctx, bucket, prefix)
		if err != nil {
			logf("  listing s3://%s/%s: %v", bucket, prefix, err)
			return nil
		}
		return new(n)
	}

	// v1 in a dx repository, committed (not part of the remote numbers).
	if err := os.MkdirAll(src, 0o755); err != nil {
		failAll("%v", err)
		return
	}
	if r := rn.run(src, nil, b.cfg.dx, "init"); r.Err != nil {
		fail(dx, "dx init: %s", r.errLine())
	}
	if ds.attributes != "" {
		if err := os.WriteFile(filepath.Join(src, ".dxattributes"), []byte(ds.attributes), 0o644); err != nil {
			fail(dx, "%v", err)
		}
	}
	v1, err := b.gen(ds.name+" v1 for the remote benchmark", func() (genInfo, error) { return ds.genV1(src) })
	if err != nil {
		failAll("generating v1: %v", err)
		return
	}
	rd.V1Bytes, rd.V1Files = v1.Bytes, v1.Files
	if ok(dx) {
		logf("  dx commit v1 (untimed) ...")
		if r := rn.run(src, nil, b.cfg.dx, "-q", "commit", "-m", "v1"); r.Err != nil {
			fail(dx, "dx commit v1: %s", r.errLine())
		}
	}
	want1, err := hashTree(src, ".dx")
	if err != nil {
		failAll("hashing v1: %v", err)
		return
	}

	// dx: full push of v1 to a fresh prefix, then clone it.
	dxURL := "s3://" + dxBucket + "/" + ds.name
	if ok(dx) {
		if r := rn.run(src, nil, b.cfg.dx, "remote", "add", "origin", dxURL, "--endpoint", ep, "--path-style"); r.Err != nil {
			fail(dx, "dx remote add: %s", r.errLine())
		}
	}
	if ok(dx) {
		r, dropped := timed(dx, "push (full, v1)", src, b.cfg.dx, "-q", "push", "--json")
		dx.CachesDropped = dropped
		var pj pushJSON
		if r.Err != nil {
			fail(dx, "dx push: %s", r.errLine())
		} else if err := json.Unmarshal([]byte(r.Stdout), &pj); err != nil {
			fail(dx, "dx push --json: %v: %s", err, firstOutputLine(r.Stdout))
		} else {
			dx.PushSeconds = new(r.Seconds)
			dx.PushMBps = new(mbps(v1.Bytes, r.Seconds))
			dx.PushBytesSent = new(pj.BytesSent)
			dx.PushRemoteBytes = remoteSize(dxBucket, ds.name+"/")
			dx.Push = &pj
			logf("  dx push: %.1f MB/s of data, sent %s (%d objects in %d packs)", *dx.PushMBps, human(pj.BytesSent), pj.Objects, pj.Packs)
		}
	}
	if ok(dx) {
		r, _ := timed(dx, "clone", dir, b.cfg.dx, "-q", "clone", dxURL, clone, "--endpoint", ep, "--path-style", "--json")
		var cj cloneJSON
		if r.Err != nil {
			fail(dx, "dx clone: %s", r.errLine())
		} else if err := json.Unmarshal([]byte(r.Stdout), &cj); err != nil {
			fail(dx, "dx clone --json: %v: %s", err, firstOutputLine(r.Stdout))
		} else {
			dx.CloneSeconds = new(r.Seconds)
			dx.CloneMBps = new(mbps(v1.Bytes, r.Seconds))
			dx.CloneBytesRead = new(cj.BytesRead)
			dx.CloneRequests = new(cj.Requests)
			dx.CloneVerify = verifyTree(want1, clone, ".dx")
			logf("  dx clone: %.1f MB/s of data, received %s in %d requests; verify: %s", *dx.CloneMBps, human(cj.BytesRead), cj.Requests, dx.CloneVerify)
		}
	}
	// aws CLI: the same v1 bytes up and down.
	awsURL := "s3://" + awsBucket + "/" + ds.name + "/"
	if ok(aws) {
		r, dropped := timed(aws, "s3 cp --recursive (upload)", src,
			"aws", "--endpoint-url", ep, "s3", "cp", "--recursive", "--only-show-errors", "--exclude", ".dx*", src, awsURL)
		aws.CachesDropped = dropped
		if r.Err != nil {
			fail(aws, "aws s3 cp (upload): %s", r.errLine())
		} else {
			aws.PushSeconds = new(r.Seconds)
			aws.PushMBps = new(mbps(v1.Bytes, r.Seconds))
			aws.PushRemoteBytes = remoteSize(awsBucket, ds.name+"/")
			logf("  aws upload: %.1f MB/s", *aws.PushMBps)
			if aws.PushRemoteBytes != nil && *aws.PushRemoteBytes != v1.Bytes {
				fail(aws, "uploaded %d bytes, v1 is %d", *aws.PushRemoteBytes, v1.Bytes)
			}
		}
	}
	if ok(aws) {
		r, _ := timed(aws, "s3 cp --recursive (download)", dir,
			"aws", "--endpoint-url", ep, "s3", "cp", "--recursive", "--only-show-errors", awsURL, awsDown)
		if r.Err != nil {
			fail(aws, "aws s3 cp (download): %s", r.errLine())
		} else {
			aws.CloneSeconds = new(r.Seconds)
			aws.CloneMBps = new(mbps(v1.Bytes, r.Seconds))
			logf("  aws download: %.1f MB/s", *aws.CloneMBps)
			if n, err := dirSize(awsDown); err != nil || n != v1.Bytes {
				fail(aws, "downloaded %d bytes (%v), v1 is %d", n, err, v1.Bytes)
			}
		}
	}
	b.cleanup(awsDown)

	// restic: init, then back up v1 into its S3 repository.
	resticRepo := "s3:" + ep + "/" + resticBucket + "/" + ds.name
	resticEnv := []string{"RESTIC_PASSWORD=bench", "RESTIC_CACHE_DIR=" + filepath.Join(dir, "restic-cache"), "RESTIC_PROGRESS_FPS=0.01"}
	resticRun := func(what string, args ...string) (runResult, bool) {
		rn := *rn
		rn.baseEnv = append(append([]string(nil), rn.baseEnv...), resticEnv...)
		dropped := b.drop.drop()
		logf("  restic %s ...", what)
		r := rn.run(src, nil, "restic", append([]string{"-r", resticRepo}, args...)...)
		if r.Err != nil {
			logf("  restic %s: %s (%.1fs)", what, r.errLine(), r.Seconds)
		} else {
			logf("  restic %s: %.2fs, peak RSS %.0f MiB", what, r.Seconds, float64(r.MaxRSSKiB)/1024)
		}
		rss(restic, r.MaxRSSKiB)
		return r, dropped
	}
	if ok(restic) {
		r, _ := resticRun("init", "init", "--quiet")
		if r.Err != nil {
			fail(restic, "restic init: %s", r.errLine())
		} else {
			restic.SetupSeconds = new(r.Seconds)
		}
	}
	if ok(restic) {
		r, dropped := resticRun("backup v1", append([]string{"backup", "--json", "--tag", "v1"}, ds.paths...)...)
		restic.CachesDropped = dropped
		if r.Err != nil {
			fail(restic, "restic backup v1: %s", r.errLine())
		} else {
			restic.PushSeconds = new(r.Seconds)
			restic.PushMBps = new(mbps(v1.Bytes, r.Seconds))
			restic.PushRemoteBytes = remoteSize(resticBucket, ds.name+"/")
			logf("  restic backup v1: %.1f MB/s", *restic.PushMBps)
		}
	}

	// v2, committed (untimed); the incremental push, pull and backup.
	var dxBefore int64
	if ok(dx) {
		if dxBefore, err = dirSize(filepath.Join(src, ".dx")); err != nil {
			fail(dx, "sizing .dx: %v", err)
		}
	}
	v2, err := b.gen(ds.name+" v2 in place", func() (genInfo, error) { return ds.applyV2(src) })
	if err != nil {
		failAll("generating v2: %v", err)
		return
	}
	rd.V2Bytes, rd.V2Files, rd.V2Desc = v2.Bytes, v2.Files, v2.Edits
	if ok(dx) {
		logf("  dx commit v2 (untimed) ...")
		if r := rn.run(src, nil, b.cfg.dx, "-q", "commit", "-m", "v2"); r.Err != nil {
			fail(dx, "dx commit v2: %s", r.errLine())
		} else if after, err := dirSize(filepath.Join(src, ".dx")); err == nil {
			dx.IncrLocalGrowth = new(after - dxBefore)
		}
	}
	if ok(dx) {
		remoteBefore := remoteSize(dxBucket, ds.name+"/")
		r, _ := timed(dx, "push (incremental, v2)", src, b.cfg.dx, "-q", "push", "--json")
		var pj pushJSON
		if r.Err != nil {
			fail(dx, "dx incremental push: %s", r.errLine())
		} else if err := json.Unmarshal([]byte(r.Stdout), &pj); err != nil {
			fail(dx, "dx push --json: %v: %s", err, firstOutputLine(r.Stdout))
		} else {
			dx.IncrSeconds = new(r.Seconds)
			dx.IncrBytesSent = new(pj.BytesSent)
			dx.Incr = &pj
			if after := remoteSize(dxBucket, ds.name+"/"); after != nil && remoteBefore != nil {
				dx.IncrRemoteGrowth = new(*after - *remoteBefore)
			}
			logf("  dx incremental push: %.2fs, sent %s (%d objects in %d packs); local store grew %s",
				r.Seconds, human(pj.BytesSent), pj.Objects, pj.Packs, human(fromPtr(dx.IncrLocalGrowth)))
		}
	}
	if ok(dx) && dx.CloneVerify == "OK" {
		want2, err := hashTree(src, ".dx")
		if err != nil {
			fail(dx, "hashing v2: %v", err)
		} else {
			// Timed pullRuns times, the median taken, as the worktree's
			// other ≤ 2× cp rows are: each run but the last pulls into a
			// copy of the clone at v1, the last into the clone itself. A
			// copy's files have new inodes, which its stat cache does not
			// vouch for: a status (untimed) records them, as the clone's
			// checkout did, or the pull would read the table to be sure of
			// it.
			var r runResult
			var secs, cps []float64
			for k := range pullRuns {
				at := clone
				if k < pullRuns-1 {
					at = clone + ".pull"
					os.RemoveAll(at)
					if c := rn.run(dir, nil, "cp", "-a", "--reflink=never", clone, at); c.Err != nil {
						fail(dx, "copying the clone: %s", c.errLine())
						break
					}
					if c := rn.run(at, nil, b.cfg.dx, "status"); c.Err != nil {
						fail(dx, "dx status in a copy of the clone: %s", c.errLine())
						break
					}
				}
				r, _ = timed(dx, "pull (v2 into the clone)", at, b.cfg.dx, "-q", "pull", "--json")
				if r.Err == nil && ds.tablePath != "" {
					// The bound of the pull's ≤ 2× cp row, in the same phase.
					if c, err := b.cpTimed(rn, filepath.Join(at, ds.tablePath), filepath.Join(dir, "pull-cp.tmp")); err == nil {
						cps = append(cps, c)
					}
				}
				if at != clone {
					os.RemoveAll(at)
				}
				if r.Err != nil {
					break
				}
				secs = append(secs, r.Seconds)
			}
			var pj struct {
				Fetch cloneJSON `json:"fetch"`
			}
			var jerr error
			if r.Err == nil {
				jerr = json.Unmarshal([]byte(r.Stdout), &pj)
			}
			switch {
			case !ok(dx):
			case r.Err != nil:
				fail(dx, "dx pull: %s", r.errLine())
			case jerr != nil:
				fail(dx, "dx pull --json: %v: %s", jerr, firstOutputLine(r.Stdout))
			default:
				dx.PullSeconds = new(median(secs))
				dx.PullRuns, dx.PullCpRuns = secs, cps
				dx.PullBytesRead = new(pj.Fetch.BytesRead)
				dx.PullVerify = verifyTree(want2, clone, ".dx")
				logf("  dx pull: %s (median %.2fs), received %s in %d requests; verify: %s", seconds(secs), median(secs), human(pj.Fetch.BytesRead), pj.Fetch.Requests, dx.PullVerify)
			}
		}
	}
	if ds.name == "table" && ok(dx) && dx.PullVerify == "OK" {
		b.subscribeBench(ctx, srv, rn, src, clone, ds.tablePath)
		if ctx.Err() == nil {
			b.rep.Remote.GC = b.remoteGCBench(ctx, srv, rn, src, ds.tablePath)
		}
	}
	if ds.name == "table" && ok(dx) {
		b.serveBench(ctx, srv, rn.baseEnv, src, ds.tablePath)
	}
	b.cleanup(clone)
	if ok(restic) {
		remoteBefore := remoteSize(resticBucket, ds.name+"/")
		r, _ := resticRun("backup v2", append([]string{"backup", "--json", "--tag", "v2"}, ds.paths...)...)
		if r.Err != nil {
			fail(restic, "restic backup v2: %s", r.errLine())
		} else {
			restic.IncrSeconds = new(r.Seconds)
			if after := remoteSize(resticBucket, ds.name+"/"); after != nil && remoteBefore != nil {
				restic.IncrRemoteGrowth = new(*after - *remoteBefore)
			}
			if s, ok := resticSummary(r.Stdout); ok {
				restic.Notes = append(restic.Notes, fmt.Sprintf("v2 backup: restic reports data_added %s", human(s.DataAdded)))
			}
			logf("  restic backup v2: %.2fs, repository grew %s", r.Seconds, human(fromPtr(restic.IncrRemoteGrowth)))
		}
	}
}

// pushJSON is `dx push --json`.
type pushJSON struct {
	Objects   int     `json:"objects"`
	Chunks    int     `json:"chunks"`
	Packs     int     `json:"packs"`
	DataBytes int64   `json:"data_bytes"`
	MetaBytes int64   `json:"meta_bytes"`
	BytesSent int64   `json:"bytes_sent"`
	Seconds   float64 `json:"seconds"`
}

// pullRuns is how many times the pull of v2 into a clone at v1 is timed.
const pullRuns = 3

// cloneJSON is `dx clone --json` (and the fetch part of `dx pull --json`).
type cloneJSON struct {
	Objects   int   `json:"objects"`
	Chunks    int   `json:"chunks"`
	Bytes     int64 `json:"bytes"`
	BytesRead int64 `json:"bytes_read"`
	Requests  int64 `json:"requests"`
}

// resticSummary finds the summary message of `restic backup --json`.
func resticSummary(out string) (s struct {
	DataAdded int64 `json:"data_added"`
}, ok bool) {
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, `"summary"`) {
			continue
		}
		var m struct {
			MessageType string `json:"message_type"`
			DataAdded   int64  `json:"data_added"`
		}
		if json.Unmarshal([]byte(line), &m) == nil && m.MessageType == "summary" {
			s.DataAdded, ok = m.DataAdded, true
		}
	}
	return s, ok
}

// verifyTree compares the files under root (top-level names starting with
// skipPrefix left out) with want: "OK" or "FAIL: …".
func verifyTree(want map[string][32]byte, root, skipPrefix string) string {
	got, err := hashTree(root, skipPrefix)
	if err != nil {
		return "FAIL: " + err.Error()
	}
	if d := compareTrees(want, got); d != "" {
		return "FAIL: " + d
	}
	return "OK"
}

func fromPtr[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
