package main

// Process execution, timing, RSS, cache dropping, sizes and hashing.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	if len(t.buf) > t.max {
		return string(t.buf[len(t.buf)-t.max:])
	}
	return string(t.buf)
}

// runResult is one finished process.
type runResult struct {
	Seconds   float64
	MaxRSSKiB int64
	Stdout    string
	Stderr    string
	ExitCode  int
	Err       error
}

// errLine is a one-line description of a failed run.
func (r runResult) errLine() string {
	if r.Err == nil {
		return ""
	}
	msg := firstOutputLine(r.Stderr)
	if msg == "" {
		msg = firstOutputLine(r.Stdout)
	}
	if msg == "" {
		return r.Err.Error()
	}
	return fmt.Sprintf("%v: %s", r.Err, msg)
}

func firstOutputLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			if len(l) > 300 {
				l = l[:300] + "…"
			}
			return l
		}
	}
	return ""
}

// runner runs commands under a context with a per-command timeout.
type runner struct {
	ctx     context.Context
	timeout time.Duration
	verbose bool
	// baseEnv is the environment commands start from; nil: os.Environ().
	baseEnv []string
	// outMax is how much of the end of stdout is kept; 0: 64 KiB.
	outMax int
}

// run executes name args in dir with env added to the environment and
// returns wall time and the peak RSS of the process (ru_maxrss, KiB).
func (rn *runner) run(dir string, env []string, name string, args ...string) runResult {
	ctx, cancel := context.WithTimeout(rn.ctx, rn.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	base := rn.baseEnv
	if base == nil {
		base = os.Environ()
	}
	cmd.Env = append(append([]string(nil), base...), env...)
	cmd.Stdin = nil
	outMax := rn.outMax
	if outMax <= 0 {
		outMax = 64 << 10
	}
	out, errb := &tailBuffer{max: outMax}, &tailBuffer{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = out, errb
	cmd.WaitDelay = 10 * time.Second
	if rn.verbose {
		logf("  $ (cd %s && %s %s)", dir, name, strings.Join(args, " "))
	}
	start := time.Now()
	err := cmd.Run()
	res := runResult{Seconds: time.Since(start).Seconds(), Stdout: out.String(), Stderr: errb.String(), Err: err}
	if cmd.ProcessState != nil {
		res.ExitCode = cmd.ProcessState.ExitCode()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			res.MaxRSSKiB = ru.Maxrss // KiB on Linux
		}
	}
	if err != nil && ctx.Err() == context.DeadlineExceeded {
		res.Err = fmt.Errorf("timed out after %v", rn.timeout)
	}
	return res
}

// nothingToCommit reports whether a run is a clean "nothing to commit",
// whatever its exit status.
func nothingToCommit(r runResult) bool {
	if r.Err != nil {
		var ee *exec.ExitError
		if !errors.As(r.Err, &ee) {
			return false // did not start, timed out, killed
		}
	}
	s := strings.ToLower(r.Stdout + "\n" + r.Stderr)
	return strings.Contains(s, "nothing to commit") || strings.Contains(s, "no changes")
}

// ---------------------------------------------------------------- caches

// cacheDropper syncs and drops the page cache before timed operations.
type cacheDropper struct {
	level    int // 0 = never; 1 = page cache; 3 = page cache + dentries/inodes
	mu       sync.Mutex
	ok, fail int
	firstErr string
}

// drop returns whether the caches were dropped.
func (c *cacheDropper) drop() bool {
	syscall.Sync()
	if c.level == 0 {
		return false
	}
	err := os.WriteFile("/proc/sys/vm/drop_caches", []byte(fmt.Sprint(c.level)), 0)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		if c.fail == 0 {
			c.firstErr = err.Error()
			logf("  note: cannot drop caches (%v); timings run with warm caches", err)
		}
		c.fail++
		return false
	}
	c.ok++
	return true
}

func (c *cacheDropper) summary() string {
	switch {
	case c.level == 0:
		return "no (disabled with -drop-caches 0); `sync` before every timed run"
	case c.ok == 0 && c.fail == 0:
		return "not attempted"
	case c.fail == 0:
		return fmt.Sprintf("yes: `sync; echo %d > /proc/sys/vm/drop_caches` before every timed run (%d times)", c.level, c.ok)
	case c.ok == 0:
		return fmt.Sprintf("no: %s (only `sync` before timed runs; caches warm)", c.firstErr)
	default:
		return fmt.Sprintf("partly: dropped %d times, failed %d times (%s)", c.ok, c.fail, c.firstErr)
	}
}

// ---------------------------------------------------------------- sizes

// dirSize sums the sizes of the regular files under root (apparent size).
func dirSize(root string) (int64, error) {
	var n int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	return n, err
}

// clearWorktree removes every entry of root except the names in keep.
func clearWorktree(root string, keep ...string) error {
	ents, err := os.ReadDir(root)
	if err != nil {
		return err
	}
outer:
	for _, e := range ents {
		for _, k := range keep {
			if e.Name() == k {
				continue outer
			}
		}
		if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// ---------------------------------------------------------------- verification

// hashTree returns sha256 of every regular file under root, keyed by
// slash-separated relative path, skipping top-level entries whose name
// starts with skipPrefix (".dx": the repository and any .dx* files the tool
// keeps in the worktree root). Symlinks and other non-regular files are an
// error.
func hashTree(root, skipPrefix string) (map[string][32]byte, error) {
	type job struct{ rel, path string }
	var jobs []job
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel != "." && skipPrefix != "" && !strings.ContainsRune(rel, filepath.Separator) && strings.HasPrefix(rel, skipPrefix) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file (%v)", rel, d.Type())
		}
		jobs = append(jobs, job{filepath.ToSlash(rel), p})
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string][32]byte, len(jobs))
	var mu sync.Mutex
	var firstErr error
	ch := make(chan job)
	var wg sync.WaitGroup
	for w := 0; w < runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1<<20)
			for j := range ch {
				sum, err := hashFile(j.path, buf)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				out[j.rel] = sum
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
	return out, firstErr
}

func hashFile(path string, buf []byte) ([32]byte, error) {
	var sum [32]byte
	f, err := os.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, f, buf); err != nil {
		return sum, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// compareTrees describes how got differs from want; "" when equal.
func compareTrees(want, got map[string][32]byte) string {
	var missing, extra, diff []string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			missing = append(missing, k)
		case g != w:
			diff = append(diff, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			extra = append(extra, k)
		}
	}
	if len(missing)+len(extra)+len(diff) == 0 {
		return ""
	}
	var b bytes.Buffer
	part := func(what string, l []string) {
		if len(l) == 0 {
			return
		}
		sort.Strings(l)
		ex := l[:min(3, len(l))]
		fmt.Fprintf(&b, "%d %s (e.g. %s); ", len(l), what, strings.Join(ex, ", "))
	}
	part("missing", missing)
	part("extra", extra)
	part("differ", diff)
	return strings.TrimSuffix(b.String(), "; ")
}

// ---------------------------------------------------------------- machine

// Machine describes where the benchmark ran.
type Machine struct {
	Date      string `json:"date"`
	Hostname  string `json:"hostname"`
	NProc     int    `json:"nproc"`
	CPUModel  string `json:"cpu_model"`
	MemTotal  string `json:"mem_total"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go_version"`
	WorkDir   string `json:"work_dir"`
	WorkFS    string `json:"work_dir_free"`
}

func machineInfo(workDir string) Machine {
	m := Machine{
		Date:      time.Now().UTC().Format(time.RFC3339),
		NProc:     runtime.NumCPU(),
		GoVersion: runtime.Version(),
		WorkDir:   workDir,
	}
	m.Hostname, _ = os.Hostname()
	m.CPUModel = procField("/proc/cpuinfo", "model name")
	if kb := procField("/proc/meminfo", "MemTotal"); kb != "" {
		var n int64
		if _, err := fmt.Sscanf(kb, "%d", &n); err == nil {
			m.MemTotal = fmt.Sprintf("%.1f GiB", float64(n)/(1<<20))
		} else {
			m.MemTotal = kb
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m.GoVersion = strings.TrimSpace(string(out))
	}
	var st syscall.Statfs_t
	if syscall.Statfs(workDir, &st) == nil {
		m.WorkFS = fmt.Sprintf("%.1f GiB", float64(st.Bavail)*float64(st.Bsize)/(1<<30))
	}
	return m
}

func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// freeBytes is the space available to us on the filesystem holding dir.
func freeBytes(dir string) int64 {
	var st syscall.Statfs_t
	if syscall.Statfs(dir, &st) != nil {
		return -1
	}
	return int64(st.Bavail) * st.Bsize
}
