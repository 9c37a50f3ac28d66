package main

// A dx command in a real terminal: an 80×24 pane of a tmux server of the
// benchmark's own, its screen read with capture-pane.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// paneReady is what the pane's shell prints once it waits for the line
// that starts the command, so that no timing includes the shell's start.
const paneReady = "dx-bench-pane-ready"

// pollEvery is how long a wait sleeps between two reads of the screen
// (each read is a tmux client process of its own, a few ms).
const pollEvery = 2 * time.Millisecond

// tmuxPane is one command waiting, or running, in an 80×24 pane.
type tmuxPane struct {
	ctx    context.Context
	socket string
	env    []string
}

// tmuxVersion is `tmux -V`, or an error when tmux is not installed.
func tmuxVersion() (string, error) {
	path, err := exec.LookPath("tmux")
	if err != nil {
		return "", err
	}
	out, err := exec.Command(path, "-V").Output()
	if err != nil {
		return "", fmt.Errorf("tmux -V: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// startPane starts a tmux server whose socket is in tmp, with one 80×24
// pane in dir where a shell waits for go_ before it execs argv (the
// command then has the pane's process id). env is added to the
// environment of the server and so of the pane.
func startPane(ctx context.Context, tmp, dir string, env []string, argv ...string) (*tmuxPane, error) {
	p := &tmuxPane{ctx: ctx, socket: filepath.Join(tmp, fmt.Sprintf("tmux-%d.sock", time.Now().UnixNano())), env: append(os.Environ(), env...)}
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = shellQuote(a)
	}
	script := "echo " + paneReady + "; read line; exec " + strings.Join(quoted, " ")
	if _, err := p.tmux("-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "24", "-c", dir, "sh -c "+shellQuote(script)); err != nil {
		return nil, err
	}
	if _, _, err := p.waitFor(time.Now(), 30*time.Second, func(s string) bool { return strings.Contains(s, paneReady) }); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func (p *tmuxPane) tmux(args ...string) (string, error) {
	cmd := exec.CommandContext(p.ctx, "tmux", append([]string{"-S", p.socket}, args...)...)
	cmd.Env = p.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("tmux %s: %v: %s", args[0], err, firstOutputLine(string(out)))
	}
	return string(out), nil
}

// start lets the waiting shell exec the command and returns the time
// just before it did.
func (p *tmuxPane) start() (time.Time, error) {
	t := time.Now()
	return t, p.keys("Enter")
}

// keys types keys into the pane, as tmux send-keys names them.
func (p *tmuxPane) keys(keys ...string) error {
	_, err := p.tmux(append([]string{"send-keys"}, keys...)...)
	return err
}

// screen is what the pane shows now.
func (p *tmuxPane) screen() (string, error) { return p.tmux("capture-pane", "-p") }

// waitFor reads the screen every pollEvery until done holds for it, and
// returns the time from since to that read and the screen; it fails after
// limit.
func (p *tmuxPane) waitFor(since time.Time, limit time.Duration, done func(screen string) bool) (time.Duration, string, error) {
	deadline := since.Add(limit)
	for {
		s, err := p.screen()
		if err != nil {
			return 0, s, err
		}
		if done(s) {
			return time.Since(since), s, nil
		}
		if time.Now().After(deadline) {
			return 0, s, fmt.Errorf("the screen did not show what was expected within %v; it shows: %s", limit, oneScreenLine(s))
		}
		time.Sleep(pollEvery)
	}
}

// oneScreenLine is a screen on one line, for an error message.
func oneScreenLine(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	out := strings.Join(lines, " ⏎ ")
	if len(out) > 400 {
		out = out[:400] + "…"
	}
	return out
}

// pid is the process id of the pane's command.
func (p *tmuxPane) pid() (int, error) {
	out, err := p.tmux("display-message", "-p", "#{pane_pid}")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(out))
}

// close ends the server, which hangs up on the pane's command, and kills
// the command in case it outlives the hang-up.
func (p *tmuxPane) close() {
	pid, err := p.pid()
	_, _ = p.tmux("kill-server")
	if err == nil {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// peakRSSKiB is the peak resident set size of process pid so far
// (VmHWM in /proc/PID/status), in KiB.
func peakRSSKiB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmHWM", pid)
}
