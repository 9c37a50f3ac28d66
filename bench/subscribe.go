package main

// The regions benchmark (issue 17): how soon a subscriber in another
// region runs its command after a push of a 0.01%-of-rows change to the
// table, through MinIO's bucket notifications and through polling events/
// every second; and what an idle subscriber costs (requests per minute
// on the server, CPU per hour).

import (
	"bufio"
	"context"
	"fmt"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// subscribePushes is how many pushes each waking path is timed over.
const subscribePushes = 20

// subscribeIdle is how long an idle subscriber is watched.
const subscribeIdle = 60 * time.Second

// SubscribeReport is the regions benchmark.
type SubscribeReport struct {
	Status      string            `json:"status"`
	Error       string            `json:"error,omitempty"`
	TableBytes  int64             `json:"table_bytes"`
	ChangedRows int               `json:"changed_rows_per_push"`
	Paths       []*LatencyResult  `json:"paths"`
	Idle        []*IdleSubscriber `json:"idle"`
	Replicate   *ReplicateBench   `json:"replicate,omitempty"`
}

// LatencyResult is one waking path: the time from dx push returning to
// the command starting (its first action writes the time), per push.
type LatencyResult struct {
	Waking  string    `json:"waking"`
	Samples []float64 `json:"samples_seconds"`
	Median  float64   `json:"median_seconds"`
	P95     float64   `json:"p95_seconds"`
	Max     float64   `json:"max_seconds"`
	Error   string    `json:"error,omitempty"`
}

// IdleSubscriber is what a subscriber costs while nothing is pushed.
type IdleSubscriber struct {
	Waking            string           `json:"waking"`
	Seconds           float64          `json:"seconds"`
	RequestsPerMinute float64          `json:"requests_per_minute"`
	ByAPI             map[string]int64 `json:"requests_by_api"`
	CPUSecondsPerHour float64          `json:"cpu_seconds_per_hour"`
	Error             string           `json:"error,omitempty"`
}

// subscribeBench runs the regions benchmark with src (the publisher, the
// table committed and pushed) and clone (a clone of it, the subscriber's
// region).
func (b *bench) subscribeBench(ctx context.Context, srv *minioServer, rn *runner, src, clone, table string) {
	sr := &SubscribeReport{Status: "ok"}
	b.rep.Remote.Subscribe = sr
	logf("--- regions: push → subscriber's command, and an idle subscriber")
	fi, err := os.Stat(filepath.Join(src, table))
	if err != nil {
		sr.Status, sr.Error = "failed", err.Error()
		return
	}
	sr.TableBytes = fi.Size()
	sr.ChangedRows = int(max(1, fi.Size()/110/10000)) // 0.01% of ~110-byte rows
	starts := filepath.Join(clone, "..", "subscriber-starts.log")
	command := "date +%s.%N >> " + starts
	rng := rand.New(rand.NewSource(int64(b.cfg.seed)))
	for _, path := range []struct {
		name string
		args []string
	}{
		{"bucket notifications", nil},
		{"polling events/ every 1 s", []string{"--poll", "--interval", "1s"}},
	} {
		if ctx.Err() != nil {
			return
		}
		lr := &LatencyResult{Waking: path.name}
		sr.Paths = append(sr.Paths, lr)
		args := append([]string{"subscribe", "origin", "main", "--from", "head", "--exec", command}, path.args...)
		sub, err := startBackground(ctx, b.cfg.dx, clone, rn.baseEnv, args, "following")
		if err != nil {
			lr.Error = err.Error()
			continue
		}
		b.timePushes(ctx, rn, src, table, starts, sr.ChangedRows, rng, lr)
		idle := &IdleSubscriber{Waking: path.name}
		sr.Idle = append(sr.Idle, idle)
		b.idleCost(ctx, srv, sub, idle)
		sub.stop()
		if lr.Error != "" {
			logf("  %s FAILED: %s", path.name, lr.Error)
		}
	}
	if ctx.Err() == nil {
		lr := &LatencyResult{Waking: "to region B through replicate --watch (notifications on both)"}
		sr.Paths = append(sr.Paths, lr)
		b.throughRegionB(ctx, srv, rn, src, clone, table, command, starts, sr.ChangedRows, rng, lr)
	}
	if ctx.Err() == nil {
		logf("--- regions: replicating a change to region B (dx replicate, rclone sync, aws s3 sync)")
		sr.Replicate = b.replicateBench(ctx, srv, rn, src, table, filepath.Join(filepath.Dir(clone), "region-b"), rng)
	}
}

// timePushes makes subscribePushes changes of n rows to the table, each
// committed and pushed, and times each from the push returning to the
// command's next start in its log.
func (b *bench) timePushes(ctx context.Context, rn *runner, src, table, starts string, n int, rng *rand.Rand, lr *LatencyResult) {
	for i := 0; i < subscribePushes && ctx.Err() == nil; i++ {
		if err := editRows(filepath.Join(src, table), n, rng); err != nil {
			lr.Error = err.Error()
			break
		}
		if r := rn.run(src, nil, b.cfg.dx, "-q", "commit", "-m", fmt.Sprintf("regions %s %d", lr.Waking, i)); r.Err != nil {
			lr.Error = "commit: " + r.errLine()
			break
		}
		before := countLines(starts)
		if r := rn.run(src, nil, b.cfg.dx, "-q", "push"); r.Err != nil {
			lr.Error = "push: " + r.errLine()
			break
		}
		pushed := time.Now()
		started, err := waitStart(ctx, starts, before, 60*time.Second)
		if err != nil {
			lr.Error = err.Error()
			break
		}
		lr.Samples = append(lr.Samples, started.Sub(pushed).Seconds())
	}
	if len(lr.Samples) > 0 {
		lr.Median, lr.P95, lr.Max = quantile(lr.Samples, 0.5), quantile(lr.Samples, 0.95), quantile(lr.Samples, 1)
		logf("  %s: push returned → command started: median %.3fs, p95 %.3fs, max %.3fs over %d pushes",
			lr.Waking, lr.Median, lr.P95, lr.Max, len(lr.Samples))
	}
}

// throughRegionB times pushes to A reaching a subscriber of region B (a
// second MinIO) through dx replicate --watch, both woken by
// notifications: the whole path from one region to the other.
func (b *bench) throughRegionB(ctx context.Context, srvA *minioServer, rn *runner, src, clone, table, command, starts string, n int, rng *rand.Rand, lr *LatencyResult) {
	fail := func(err error) {
		lr.Error = err.Error()
		logf("  %s FAILED: %s", lr.Waking, lr.Error)
	}
	bin, err := findMinio(b.cfg.minio)
	if err != nil {
		fail(err)
		return
	}
	dir := filepath.Join(filepath.Dir(clone), "follow-b")
	srvB, err := startMinio(ctx, bin, filepath.Join(dir, "minio"))
	if err != nil {
		fail(err)
		return
	}
	defer srvB.stop()
	const bucket = "dx-follow-b"
	if err := srvB.makeBucket(ctx, bucket); err != nil {
		fail(err)
		return
	}
	a, bURL := "s3://"+dxBucket+"/table", "s3://"+bucket+"/table"
	sides := []string{"--src-endpoint", srvA.endpoint(), "--dst-endpoint", srvB.endpoint(), "--path-style"}
	logf("  region B: first copy of the table's remote (untimed) ...")
	if r := rn.run(dir, nil, b.cfg.dx, append([]string{"replicate", a, bURL}, sides...)...); r.Err != nil {
		fail(fmt.Errorf("first replicate: %s", r.errLine()))
		return
	}
	if r := rn.run(clone, nil, b.cfg.dx, "remote", "add", "regionb", bURL, "--endpoint", srvB.endpoint(), "--path-style"); r.Err != nil {
		fail(fmt.Errorf("remote add: %s", r.errLine()))
		return
	}
	watch, err := startBackground(ctx, b.cfg.dx, dir, rn.baseEnv, append([]string{"replicate", a, bURL, "--watch"}, sides...), "watching")
	if err != nil {
		fail(err)
		return
	}
	defer watch.stop()
	sub, err := startBackground(ctx, b.cfg.dx, clone, rn.baseEnv, []string{"subscribe", "regionb", "main", "--from", "head", "--exec", command}, "following")
	if err != nil {
		fail(err)
		return
	}
	defer sub.stop()
	b.timePushes(ctx, rn, src, table, starts, n, rng, lr)
}

// idleCost watches a running subscriber for subscribeIdle: the server's
// request counters and the subscriber's CPU time.
func (b *bench) idleCost(ctx context.Context, srv *minioServer, sub *subscriber, idle *IdleSubscriber) {
	before, err := srv.requests(ctx)
	if err != nil {
		idle.Error = err.Error()
		return
	}
	cpu0, err := cpuSeconds(sub.cmd.Process.Pid)
	if err != nil {
		idle.Error = err.Error()
		return
	}
	t0 := time.Now()
	select {
	case <-ctx.Done():
		return
	case <-time.After(subscribeIdle):
	}
	after, err := srv.requests(ctx)
	if err != nil {
		idle.Error = err.Error()
		return
	}
	cpu1, err := cpuSeconds(sub.cmd.Process.Pid)
	if err != nil {
		idle.Error = err.Error()
		return
	}
	idle.Seconds = time.Since(t0).Seconds()
	idle.ByAPI = map[string]int64{}
	var total int64
	for api, n := range after {
		if d := n - before[api]; d > 0 {
			idle.ByAPI[api] = d
			total += d
		}
	}
	idle.RequestsPerMinute = float64(total) / idle.Seconds * 60
	idle.CPUSecondsPerHour = (cpu1 - cpu0) / idle.Seconds * 3600
	logf("  idle subscriber (%s): %.1f requests/min %v, %.1f s CPU per hour", idle.Waking, idle.RequestsPerMinute, idle.ByAPI, idle.CPUSecondsPerHour)
}

// subscriber is a dx subscribe running in the background.
type subscriber struct {
	cmd *exec.Cmd
}

// startBackground starts dx with args in dir and waits until its output
// holds ready (its start line).
func startBackground(ctx context.Context, dx, dir string, env []string, args []string, ready string) (*subscriber, error) {
	cmd := exec.CommandContext(ctx, dx, args...)
	cmd.Dir = dir
	cmd.Env = env
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	log, err := os.CreateTemp(filepath.Dir(dir), "background-*.log")
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	// Up once it has said how it wakes.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(log.Name()); strings.Contains(string(b), ready) {
			return &subscriber{cmd: cmd}, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	b, _ := os.ReadFile(log.Name())
	return nil, fmt.Errorf("dx %s did not start: %s", args[0], firstOutputLine(string(b)))
}

func (s *subscriber) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_ = s.cmd.Wait()
}

// editRows changes one digit in each of n rows of the CSV file at
// random places, in place: the same length, the key (first field) kept.
func editRows(path string, n int, rng *rand.Rand) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	buf := make([]byte, 512)
	for done := 0; done < n; {
		off := rng.Int63n(max(1, fi.Size()-int64(len(buf))))
		m, err := f.ReadAt(buf, off)
		if m == 0 {
			return err
		}
		b := buf[:m]
		// The row after the next newline: a digit after its first comma.
		nl := strings.IndexByte(string(b), '\n')
		if nl < 0 {
			continue
		}
		row := b[nl+1:]
		end := strings.IndexByte(string(row), '\n')
		comma := strings.IndexByte(string(row), ',')
		if end < 0 || comma < 0 || comma > end {
			continue
		}
		for i := comma + 1; i < end; i++ {
			if c := row[i]; c >= '0' && c <= '9' {
				row[i] = '0' + (c-'0'+1)%10
				if _, err := f.WriteAt(row[i:i+1], off+int64(nl+1+i)); err != nil {
					return err
				}
				done++
				break
			}
		}
	}
	return nil
}

func countLines(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\n")
}

// waitStart waits for line before+1 of the command's log and returns the
// time it holds.
func waitStart(ctx context.Context, path string, before int, limit time.Duration) (time.Time, error) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		b, _ := os.ReadFile(path)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if strings.Count(string(b), "\n") > before {
			secs, err := strconv.ParseFloat(lines[before], 64)
			if err != nil {
				return time.Time{}, fmt.Errorf("command log line %q: %v", lines[before], err)
			}
			return time.Unix(0, int64(secs*1e9)), nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Time{}, fmt.Errorf("the command did not start within %s of the push", limit)
}

// quantile is the q-quantile of xs (nearest rank).
func quantile(xs []float64, q float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// cpuSeconds is the user and system time of process pid so far.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses.
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100, nil // clock ticks: 100 a second on Linux
}

// requests reads MinIO's count of S3 requests by API (its Prometheus
// metrics, public in the benchmark's server).
func (s *minioServer) requests(ctx context.Context) (map[string]int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.endpoint()+"/minio/v2/metrics/cluster", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("MinIO metrics: %s", resp.Status)
	}
	out := map[string]int64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "minio_s3_requests_total{") {
			continue
		}
		i := strings.Index(line, `api="`)
		j := strings.LastIndexByte(line, ' ')
		if i < 0 || j < 0 {
			continue
		}
		api := line[i+5:]
		api = api[:strings.IndexByte(api, '"')]
		v, err := strconv.ParseFloat(line[j+1:], 64)
		if err != nil {
			continue
		}
		out[api] += int64(v)
	}
	return out, sc.Err()
}
