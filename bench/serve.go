package main

// The dx serve benchmark (issue 21), on the table's repository after v2:
// a GET of the whole table through the gateway against MinIO serving a
// plain copy of the same bytes, the first GET on each (the gateway's
// decodes every chunk and keeps a decoded copy of the file) and then
// repeated GETs taken in turns (the gateway's sent from its copy, MinIO's
// from its file, both through the page cache), 4 KiB ranged GETs at
// random offsets on both, a row by key through the data API (cold: the
// first request of a fresh server; warm: after), and the server's peak
// memory once 64 clients have read the whole table at once.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

const (
	serveBucket   = "servebench"
	serveRanges   = 300 // 4 KiB ranged GETs on each server
	serveLookups  = 200 // warm row lookups
	serveReaders  = 64  // concurrent whole-table readers
	serveKey      = "dxbench-serve"
	serveSecret   = "dxbench-serve-secret"
	serveRangeLen = 4 << 10
	serveRepeats  = 5 // repeated whole GETs on each server, in turns
)

// ServeReport is the dx serve benchmark.
type ServeReport struct {
	Status     string `json:"status"`
	Error      string `json:"error,omitempty"`
	TableBytes int64  `json:"table_bytes"`
	// The first whole GET on each server: the gateway's decodes the
	// table and keeps its decoded copy.
	DxFirstGetMBps    *float64 `json:"dx_first_get_mb_per_s"`
	MinioFirstGetMBps *float64 `json:"minio_first_get_mb_per_s"`
	// The median of the repeated whole GETs: the gateway's from its
	// decoded copy. The target compares these.
	DxGetMBps       *float64 `json:"dx_get_mb_per_s"`
	MinioGetMBps    *float64 `json:"minio_get_mb_per_s"`
	DxRangeP50ms    *float64 `json:"dx_range_p50_ms"`
	DxRangeP99ms    *float64 `json:"dx_range_p99_ms"`
	MinioRangeP50ms *float64 `json:"minio_range_p50_ms"`
	MinioRangeP99ms *float64 `json:"minio_range_p99_ms"`
	RowColdms       *float64 `json:"row_cold_ms"`
	RowWarmP50ms    *float64 `json:"row_warm_p50_ms"`
	RowChunksRead   *float64 `json:"row_chunks_read_mean"` // per lookup, the header's chunk included
	RowChunks       int      `json:"row_table_chunks"`
	PeakRSSMiB      *float64 `json:"peak_rss_mib"` // after 64 concurrent whole-table readers
}

// gatewayProc is a running dx serve.
type gatewayProc struct {
	cmd  *exec.Cmd
	addr string
}

func startGateway(ctx context.Context, dx, repoDir string, env []string) (*gatewayProc, error) {
	cmd := exec.CommandContext(ctx, dx, "serve", "--listen", "127.0.0.1:0", "--anonymous", "--repo", "table="+repoDir)
	cmd.Env = append(env, "DX_SERVE_ACCESS_KEY="+serveKey, "DX_SERVE_SECRET_KEY="+serveSecret)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	_, addr, ok := strings.Cut(strings.TrimSpace(line), " on http://")
	if err != nil || !ok {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("dx serve printed %q: %v", line, err)
	}
	return &gatewayProc{cmd: cmd, addr: addr}, nil
}

func (g *gatewayProc) stop() {
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	_ = g.cmd.Wait()
}

// serveBench runs the dx serve benchmark on src (a repository holding the
// table at tablePath, committed on main).
func (b *bench) serveBench(ctx context.Context, srv *minioServer, env []string, src, tablePath string) {
	sr := &ServeReport{Status: "ok"}
	b.rep.Remote.Serve = sr
	logf("--- dx serve: the table through the S3 gateway against MinIO, rows by key")
	fail := func(format string, args ...any) {
		sr.Status, sr.Error = "failed", fmt.Sprintf(format, args...)
		logf("  FAILED: %s", sr.Error)
	}
	file := filepath.Join(src, tablePath)
	fi, err := os.Stat(file)
	if err != nil {
		fail("%v", err)
		return
	}
	sr.TableBytes = fi.Size()
	if err := srv.makeBucket(ctx, serveBucket); err != nil {
		fail("%v", err)
		return
	}
	if _, err := srv.client.FPutObject(ctx, serveBucket, tablePath, file, minio.PutObjectOptions{}); err != nil {
		fail("copying the table to MinIO: %v", err)
		return
	}
	defer srv.client.RemoveObject(context.WithoutCancel(ctx), serveBucket, tablePath, minio.RemoveObjectOptions{})
	maxID, err := lastID(file)
	if err != nil {
		fail("%v", err)
		return
	}
	g, err := startGateway(ctx, b.cfg.dx, src, env)
	if err != nil {
		fail("%v", err)
		return
	}
	defer g.stop()
	gw, err := minio.New(g.addr, &minio.Options{Creds: credentials.NewStaticV4(serveKey, serveSecret, ""), Region: "us-east-1"})
	if err != nil {
		fail("%v", err)
		return
	}
	rng := rand.New(rand.NewSource(int64(b.cfg.seed)))

	// A row by key: the first request of the fresh server is the cold one.
	rowURL := func() string {
		return fmt.Sprintf("http://%s/v1/rows/main/%s?key=%d", g.addr, tablePath, 1+rng.Int63n(maxID))
	}
	cold, chunks, _, err := lookupRow(ctx, rowURL())
	if err != nil {
		fail("row by key: %v", err)
		return
	}
	sr.RowColdms, sr.RowChunks = new(cold*1000), chunks
	var warm []float64
	var read int
	for i := range serveLookups + 20 {
		s, c, n, err := lookupRow(ctx, rowURL())
		if err != nil {
			fail("row by key: %v", err)
			return
		}
		if i >= 20 { // the first ones warm the caches
			warm = append(warm, s*1000)
			read += n
		}
		if c > 0 {
			sr.RowChunks = c
		}
	}
	sr.RowWarmP50ms = new(quantile(warm, 0.5))
	sr.RowChunksRead = new(float64(read) / float64(len(warm)))
	logf("  row by key: cold %.1f ms, warm p50 %.2f ms, %.1f of %d chunks read a lookup", *sr.RowColdms, *sr.RowWarmP50ms, *sr.RowChunksRead, chunks)

	// Whole GETs: the first on MinIO, then on the gateway; then repeated
	// ones in turns; then the ranged GETs on both at the same offsets.
	type getTarget struct {
		c           *minio.Client
		bucket, key string
		name        string
		first, rep  **float64
		repeats     []float64
	}
	targets := []*getTarget{
		{c: srv.client, bucket: serveBucket, key: tablePath, name: "MinIO", first: &sr.MinioFirstGetMBps, rep: &sr.MinioGetMBps},
		{c: gw, bucket: "table", key: "main/" + tablePath, name: "dx serve", first: &sr.DxFirstGetMBps, rep: &sr.DxGetMBps},
	}
	wholeGet := func(s *getTarget) (float64, bool) {
		t0 := time.Now()
		n, err := getAll(ctx, s.c, s.bucket, s.key, minio.GetObjectOptions{})
		if err != nil || n != sr.TableBytes {
			fail("%s GET of the table: %d bytes: %v", s.name, n, err)
			return 0, false
		}
		return float64(n) / 1e6 / time.Since(t0).Seconds(), true
	}
	for _, s := range targets {
		mbps, ok := wholeGet(s)
		if !ok {
			return
		}
		*s.first = new(mbps)
		logf("  %s: whole table, first GET %.0f MB/s", s.name, mbps)
	}
	for range serveRepeats {
		for _, s := range targets {
			mbps, ok := wholeGet(s)
			if !ok {
				return
			}
			s.repeats = append(s.repeats, mbps)
		}
	}
	for _, s := range targets {
		*s.rep = new(median(s.repeats))
		logf("  %s: whole table, repeated GETs %s MB/s (median %.0f)", s.name, mbpsList(s.repeats), **s.rep)
	}
	offsets := make([]int64, serveRanges)
	for i := range offsets {
		offsets[i] = rng.Int63n(max(1, sr.TableBytes-serveRangeLen))
	}
	for _, s := range []struct {
		c        *minio.Client
		bucket   string
		p50, p99 **float64
		name     string
	}{{srv.client, serveBucket, &sr.MinioRangeP50ms, &sr.MinioRangeP99ms, "MinIO"}, {gw, "table", &sr.DxRangeP50ms, &sr.DxRangeP99ms, "dx serve"}} {
		key := tablePath
		if s.bucket == "table" {
			key = "main/" + tablePath
		}
		var lat []float64
		for _, off := range offsets {
			var o minio.GetObjectOptions
			_ = o.SetRange(off, off+serveRangeLen-1)
			t0 := time.Now()
			n, err := getAll(ctx, s.c, s.bucket, key, o)
			if err != nil || n != serveRangeLen {
				fail("%s ranged GET: %d bytes: %v", s.name, n, err)
				return
			}
			lat = append(lat, time.Since(t0).Seconds()*1000)
		}
		*s.p50, *s.p99 = new(quantile(lat, 0.5)), new(quantile(lat, 0.99))
		logf("  %s: 4 KiB ranged GET p50 %.2f ms, p99 %.2f ms", s.name, **s.p50, **s.p99)
	}

	// 64 readers of the whole table at once.
	var wg sync.WaitGroup
	errs := make(chan error, serveReaders)
	for range serveReaders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := getAll(ctx, gw, "table", "main/"+tablePath, minio.GetObjectOptions{})
			if err == nil && n != sr.TableBytes {
				err = fmt.Errorf("%d bytes", n)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			fail("%d concurrent readers: %v", serveReaders, err)
			return
		}
	}
	if kb, err := peakRSSKiB(g.cmd.Process.Pid); err == nil {
		sr.PeakRSSMiB = new(float64(kb) / 1024)
		logf("  peak resident memory after %d concurrent whole-table readers: %.0f MiB", serveReaders, *sr.PeakRSSMiB)
	}
}

// mbpsList lists throughputs as "1234, 1301, 1288".
func mbpsList(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strings.Join(parts, ", ")
}

// getAll reads an object (or its range) to the end and counts its bytes.
func getAll(ctx context.Context, c *minio.Client, bucket, key string, o minio.GetObjectOptions) (int64, error) {
	obj, err := c.GetObject(ctx, bucket, key, o)
	if err != nil {
		return 0, err
	}
	defer obj.Close()
	return io.Copy(io.Discard, obj)
}

// lookupRow GETs a row by key and returns the seconds it took, the
// table's chunks and how many the lookup read (a key deleted in v2 is a
// 404, which is a lookup too).
func lookupRow(ctx context.Context, url string) (float64, int, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, 0, err
	}
	t0 := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	s := time.Since(t0).Seconds()
	if err != nil {
		return 0, 0, 0, err
	}
	if resp.StatusCode == http.StatusNotFound {
		return s, 0, 0, nil
	}
	var a struct {
		Chunks     int `json:"chunks"`
		ChunksRead int `json:"chunks_read"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &a) != nil {
		return 0, 0, 0, fmt.Errorf("%s: %d %s", url, resp.StatusCode, firstOutputLine(string(body)))
	}
	return s, a.Chunks, a.ChunksRead, nil
}

// lastID is the id (first field) of the table's last row.
func lastID(file string) (int64, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	buf := make([]byte, min(fi.Size(), 64<<10))
	if _, err := f.ReadAt(buf, fi.Size()-int64(len(buf))); err != nil {
		return 0, err
	}
	lines := strings.Split(strings.TrimRight(string(buf), "\n"), "\n")
	last := lines[len(lines)-1]
	id, err := strconv.ParseInt(last[:max(0, strings.IndexByte(last, ','))], 10, 64)
	if err != nil || id < 1 {
		return 0, fmt.Errorf("the table's last row %.40q has no id", last)
	}
	return id, nil
}

// serveOnly is the dx serve benchmark alone (-remote serve): the table's
// v1 and v2 committed in a fresh repository, untimed, then serveBench.
func (b *bench) serveOnly(ctx context.Context, srv *minioServer, ds *dataset, dir string) {
	logf("--- dx serve alone on %s", ds.name)
	rn := &runner{ctx: ctx, timeout: b.cfg.timeout, verbose: b.cfg.verbose, baseEnv: remoteEnviron(srv, dir), outMax: 64 << 20}
	src := filepath.Join(dir, "src")
	fail := func(format string, args ...any) {
		b.rep.Remote.Serve = &ServeReport{Status: "failed", Error: fmt.Sprintf(format, args...)}
		logf("  FAILED: %s", b.rep.Remote.Serve.Error)
	}
	if err := os.MkdirAll(src, 0o755); err != nil {
		fail("%v", err)
		return
	}
	if r := rn.run(src, nil, b.cfg.dx, "init"); r.Err != nil {
		fail("dx init: %s", r.errLine())
		return
	}
	if ds.attributes != "" {
		if err := os.WriteFile(filepath.Join(src, ".dxattributes"), []byte(ds.attributes), 0o644); err != nil {
			fail("%v", err)
			return
		}
	}
	for _, v := range []struct {
		name string
		gen  func(string) (genInfo, error)
	}{{"v1", ds.genV1}, {"v2", ds.applyV2}} {
		if _, err := b.gen(ds.name+" "+v.name+" for dx serve", func() (genInfo, error) { return v.gen(src) }); err != nil {
			fail("generating %s: %v", v.name, err)
			return
		}
		logf("  dx commit %s (untimed) ...", v.name)
		if r := rn.run(src, nil, b.cfg.dx, "-q", "commit", "-m", v.name); r.Err != nil {
			fail("dx commit %s: %s", v.name, r.errLine())
			return
		}
	}
	b.serveBench(ctx, srv, rn.baseEnv, src, ds.tablePath)
}
