package main

// Running a process: its wall time, its peak RSS and the tail of its output.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
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
	resetPeakRSS()
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

// resetPeakRSS lowers this process's peak resident set size to what it
// holds now, before it starts a command. Linux gives a new program the
// peak of the process it was started from as its own starting peak
// (ru_maxrss is kept across exec), so without this every command run after
// the bench itself once grew (writing a dataset, say) reported at least
// that much.
func resetPeakRSS() {
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
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
