// Package progress defines how long operations report progress, and a
// terminal renderer for it. Library code only calls the Reporter interface;
// front ends choose the renderer (a bar on a terminal, nothing when piped).
package progress

import (
	"io"
	"os"
	"sync"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Bar tracks one operation. Add and Done are safe for concurrent use.
type Bar interface {
	Add(n int64)
	Done()
}

// Reporter starts bars. total is in bytes (or items when bytes is false);
// a total ≤ 0 means unknown.
type Reporter interface {
	Start(label string, total int64, bytes bool) Bar
}

// Grow adds n to b's total, where b's total can grow (a bar started
// before all its work was known).
func Grow(b Bar, n int64) {
	if g, ok := b.(interface{ Grow(n int64) }); ok {
		g.Grow(n)
	}
}

// Nop reports nothing.
type Nop struct{}

// Start returns a bar that does nothing.
func (Nop) Start(string, int64, bool) Bar { return nopBar{} }

type nopBar struct{}

func (nopBar) Add(int64) {}
func (nopBar) Done()     {}

// Terminal draws bars on w (normally stderr).
type Terminal struct{ W io.Writer }

// ForStderr returns a terminal reporter when stderr is a terminal and quiet
// is false, otherwise Nop.
func ForStderr(quiet bool) Reporter {
	if quiet || !term.IsTerminal(int(os.Stderr.Fd())) {
		return Nop{}
	}
	return Terminal{W: os.Stderr}
}

// Start draws a new bar.
func (t Terminal) Start(label string, total int64, bytes bool) Bar {
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(t.W),
		progressbar.OptionSetDescription(label),
		progressbar.OptionThrottle(100e6),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetPredictTime(true),
	}
	if bytes {
		opts = append(opts, progressbar.OptionShowBytes(true))
	}
	if total <= 0 {
		return &termBar{b: progressbar.NewOptions64(-1, opts...)}
	}
	return &termBar{b: progressbar.NewOptions64(total, opts...), total: total}
}

type termBar struct {
	mu    sync.Mutex
	b     *progressbar.ProgressBar
	total int64 // 0: unknown
}

// Grow adds n to the total (which a bar started with none then has).
func (t *termBar) Grow(n int64) {
	t.mu.Lock()
	t.total += n
	t.b.ChangeMax64(t.total)
	t.mu.Unlock()
}

func (t *termBar) Add(n int64) {
	t.mu.Lock()
	_ = t.b.Add64(n)
	t.mu.Unlock()
}

func (t *termBar) Done() {
	t.mu.Lock()
	_ = t.b.Finish()
	_ = t.b.Clear()
	t.mu.Unlock()
}
