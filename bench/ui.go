package main

// The terminal UI benchmark (issue 18): dx ui driven in a real terminal
// (an 80×24 tmux pane), its screen read every few ms until what a person
// waits for is on it: the first screen of a 100,000-commit history and of
// the 1 GiB table's, the first rows of the table's diff after Enter, and
// the peak memory of scrolling a 1-million-row diff to its end.

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	// uiHistoryCommits is the length of the long history (not scaled:
	// writing it takes seconds, and the target is stated for it).
	uiHistoryCommits = 100_000
	// uiDiffRows is the number of rows the big diff changes, at scale 1.
	uiDiffRows = 1_000_000
	// uiRuns is how many times each first screen is timed (the median
	// is reported).
	uiRuns = 3
	// uiScreenLimit bounds every wait for a screen; uiDiffLimit a wait
	// for a row diff.
	uiScreenLimit = 60 * time.Second
	uiDiffLimit   = 10 * time.Minute
)

// uiSelected says whether the UI section runs (-only names it, or no
// -only).
func (b *bench) uiSelected() bool { return b.cfg.only == nil || b.cfg.only["ui"] }

// uiSection is the report's UI section, made on first use: N/A, with
// why, when tmux is missing.
func (b *bench) uiSection() *UIReport {
	if b.rep.UI == nil {
		b.rep.UI = &UIReport{Status: "ok"}
		v, err := tmuxVersion()
		if err != nil {
			b.rep.UI.Status, b.rep.UI.Note = "N/A", "tmux is not installed (scripts/tools.sh installs it): "+err.Error()
			logf("  dx ui: N/A: %s", b.rep.UI.Note)
		}
		b.rep.UI.Tmux = v
	}
	return b.rep.UI
}

// runUI measures the UI on the long history and on the big diff, each in
// a repository of its own under the work directory.
func (b *bench) runUI(ctx context.Context) {
	ui := b.uiSection()
	if ui.Status != "ok" {
		return
	}
	logf("=== terminal UI: dx ui in an 80×24 tmux pane (%s)", ui.Tmux)
	dir := filepath.Join(b.cfg.dir, "dxbench-ui")
	os.RemoveAll(dir)
	defer b.cleanup(dir)
	ui.History = b.uiLongHistory(ctx, filepath.Join(dir, "history"))
	if ctx.Err() == nil {
		ui.BigDiff = b.uiBigDiff(ctx, filepath.Join(dir, "diff"), max(1000, int64(uiDiffRows*b.cfg.scale)))
	}
}

// uiPane starts dx ui in a fresh pane in repo, the page cache dropped
// just before, and times it until first holds for the screen. The pane
// is left running for more keys; the caller closes it.
func (b *bench) uiPane(ctx context.Context, repo string, first func(screen string) bool) (*tmuxPane, time.Duration, string, error) {
	p, err := startPane(ctx, filepath.Dir(repo), repo, nil, b.cfg.dx, "ui")
	if err != nil {
		return nil, 0, "", err
	}
	b.drop.drop()
	t, err := p.start()
	if err != nil {
		p.close()
		return nil, 0, "", err
	}
	d, screen, err := p.waitFor(t, uiScreenLimit, first)
	if err != nil {
		p.close()
		return nil, 0, screen, fmt.Errorf("first screen: %w", err)
	}
	return p, d, screen, nil
}

// showsAll says whether a screen holds every one of wants.
func showsAll(wants ...string) func(string) bool {
	return func(s string) bool {
		for _, w := range wants {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	}
}

// loadedRe reads the title line's position: the cursor, the commits
// loaded, and "+" while more remain.
var loadedRe = regexp.MustCompile(`── (\d+)/(\d+)(\+?) ──`)

// uiLongHistory writes a history of uiHistoryCommits commits with dx
// debug history and times dx ui's first screen on it, then G to its
// last commit once.
func (b *bench) uiLongHistory(ctx context.Context, repo string) *UIHistoryResult {
	res := &UIHistoryResult{Commits: uiHistoryCommits}
	if err := os.MkdirAll(repo, 0o755); err != nil {
		res.Error = err.Error()
		return res
	}
	if r := b.rn.run(repo, nil, b.cfg.dx, "init", "-q"); r.Err != nil {
		res.Error = "dx init: " + r.errLine()
		return res
	}
	r := b.rn.run(repo, nil, b.cfg.dx, "debug", "history", "-q", strconv.Itoa(uiHistoryCommits))
	if r.Err != nil {
		res.Error = "dx debug history: " + r.errLine()
		return res
	}
	res.GenerateSeconds = r.Seconds
	logf("  dx debug history %d: %.1fs", uiHistoryCommits, r.Seconds)
	first := showsAll(fmt.Sprintf("(HEAD -> main) Step %d", uiHistoryCommits), "M steps.txt", "── HEAD ── 1/", "q quit")
	for i := range uiRuns {
		p, d, screen, err := b.uiPane(ctx, repo, first)
		if err != nil {
			res.Error = err.Error()
			return res
		}
		res.FirstScreen = append(res.FirstScreen, d.Seconds())
		if m := loadedRe.FindStringSubmatch(screen); m != nil {
			res.LoadedAtFirstScreen, _ = strconv.Atoi(m[2])
		}
		if i == 0 {
			res.ToEndSeconds, res.ToEndError = toEnd(p, fmt.Sprintf("── %d/%d ──", uiHistoryCommits, uiHistoryCommits))
		}
		p.close()
	}
	res.FirstScreenMedian = median(res.FirstScreen)
	logf("  dx ui, %d commits: first screen %s (median %.3fs) with %d commits loaded; G to the last commit %.2fs",
		uiHistoryCommits, seconds(res.FirstScreen), res.FirstScreenMedian, res.LoadedAtFirstScreen, res.ToEndSeconds)
	return res
}

// toEnd presses G and times it until the screen shows end.
func toEnd(p *tmuxPane, end string) (float64, string) {
	t := time.Now()
	if err := p.keys("G"); err != nil {
		return 0, err.Error()
	}
	d, _, err := p.waitFor(t, uiDiffLimit, showsAll(end))
	if err != nil {
		return 0, err.Error()
	}
	return d.Seconds(), ""
}

// uiTable times, in the table dataset's repository after its v1 and v2
// commits, dx ui's first screen and then Enter on the changed table to
// its first diff rows, each run in a fresh dx ui.
func (b *bench) uiTable(ctx context.Context, repo, path string) {
	ui := b.uiSection()
	if ui.Status != "ok" {
		return
	}
	res := &UITableResult{}
	ui.Table = res
	if fi, err := os.Stat(filepath.Join(repo, path)); err == nil {
		res.TableBytes = fi.Size()
	}
	logf("  dx ui on the table's history (tmux, 80×24) ...")
	first := showsAll("(HEAD -> main) v2", "M "+path, "── HEAD ── 1/", "q quit")
	for range uiRuns {
		p, d, _, err := b.uiPane(ctx, repo, first)
		if err != nil {
			res.Error = err.Error()
			return
		}
		res.FirstScreen = append(res.FirstScreen, d.Seconds())
		t := time.Now()
		enter, _, err := b.openDiff(p, path)
		var all time.Duration
		var diff diffScreen
		if err == nil {
			all, diff, err = diffDone(p, path, t)
		}
		p.close()
		if err != nil {
			res.Error = err.Error()
			return
		}
		res.EnterToRows = append(res.EnterToRows, enter.Seconds())
		res.EnterToAll = append(res.EnterToAll, all.Seconds())
		res.DiffRows = diff.total
	}
	res.FirstScreenMedian, res.EnterToRowsMedian, res.EnterToAllMedian = median(res.FirstScreen), median(res.EnterToRows), median(res.EnterToAll)
	logf("  dx ui, the table's history: first screen %s (median %.3fs); Enter → first diff rows %s (median %.3fs), → all %d %s (median %.3fs)",
		seconds(res.FirstScreen), res.FirstScreenMedian, seconds(res.EnterToRows), res.EnterToRowsMedian, res.DiffRows, seconds(res.EnterToAll), res.EnterToAllMedian)
}

// diffTitle is the drill-down's title once rows are in: the counts
// and the rows on screen out of all found so far, with a + while the
// diff still runs.
var diffTitle = regexp.MustCompile(`── (.+) \+(\d+) -(\d+) ~(\d+) rows (\d+)-(\d+)/(\d+)(\+?) `)

// diffRe is a changed row of the drill-down.
var diffRe = regexp.MustCompile(`(?m)^[-~+] \S`)

// diffScreen is what a drill-down shows of its row diff.
type diffScreen struct {
	first, last, total int64
	more               bool // the diff is still running
}

func readDiffScreen(path, screen string) (diffScreen, bool) {
	m := diffTitle.FindStringSubmatch(screen)
	if m == nil || m[1] != path || !diffRe.MatchString(screen) {
		return diffScreen{}, false
	}
	var d diffScreen
	d.first, _ = strconv.ParseInt(m[5], 10, 64)
	d.last, _ = strconv.ParseInt(m[6], 10, 64)
	d.total, _ = strconv.ParseInt(m[7], 10, 64)
	d.more = m[8] == "+"
	return d, true
}

// openDiff moves the keys to the detail pane (Tab), selects path, drops
// the page cache and times Enter to the first rows of its diff.
func (b *bench) openDiff(p *tmuxPane, path string) (time.Duration, diffScreen, error) {
	if err := p.keys("Tab"); err != nil {
		return 0, diffScreen{}, err
	}
	selected := func(s string) bool { return strings.Contains(s, "(Enter opens)") }
	_, screen, err := p.waitFor(time.Now(), uiScreenLimit, selected)
	for i := 0; err == nil && !strings.Contains(screen, ">M "+path+" ") && !strings.Contains(screen, ">A "+path+" "); i++ {
		if i == 100 {
			return 0, diffScreen{}, fmt.Errorf("%s is not among the changed paths: %s", path, oneScreenLine(screen))
		}
		before := screen
		if err = p.keys("j"); err == nil {
			_, screen, err = p.waitFor(time.Now(), uiScreenLimit, func(s string) bool { return s != before })
		}
	}
	if err != nil {
		return 0, diffScreen{}, err
	}
	b.drop.drop()
	t := time.Now()
	if err := p.keys("Enter"); err != nil {
		return 0, diffScreen{}, err
	}
	var diff diffScreen
	d, _, err := p.waitFor(t, uiDiffLimit, func(s string) (ok bool) {
		diff, ok = readDiffScreen(path, s)
		return ok
	})
	if err != nil {
		return 0, diff, fmt.Errorf("Enter on %s: %w", path, err)
	}
	return d, diff, nil
}

// diffDone waits, from t, for the drill-down on path to show that its
// diff has found every row.
func diffDone(p *tmuxPane, path string, t time.Time) (time.Duration, diffScreen, error) {
	var diff diffScreen
	d, _, err := p.waitFor(t, uiDiffLimit, func(s string) (ok bool) {
		diff, ok = readDiffScreen(path, s)
		return ok && !diff.more
	})
	if err != nil {
		return 0, diff, fmt.Errorf("the diff of %s did not end: %w", path, err)
	}
	return d, diff, nil
}

// uiBigDiff makes a table whose v2 changes every one of its rows rows,
// opens that diff in dx ui and scrolls it to its end (G), reading the
// peak RSS of the dx process before quitting.
func (b *bench) uiBigDiff(ctx context.Context, repo string, rows int64) *UIBigDiffResult {
	const path = "table.csv"
	res := &UIBigDiffResult{Rows: rows}
	fail := func(format string, args ...any) *UIBigDiffResult {
		res.Error = fmt.Sprintf(format, args...)
		logf("  dx ui big diff FAILED: %s", res.Error)
		return res
	}
	if err := os.MkdirAll(repo, 0o755); err != nil {
		return fail("%v", err)
	}
	if err := os.WriteFile(filepath.Join(repo, ".dxattributes"), []byte("*.csv table=csv key=id\n"), 0o644); err != nil {
		return fail("%v", err)
	}
	if r := b.rn.run(repo, nil, b.cfg.dx, "init", "-q"); r.Err != nil {
		return fail("dx init: %s", r.errLine())
	}
	for _, v2 := range []bool{false, true} {
		var st TableStats
		err := writeStream(filepath.Join(repo, path), func(w io.Writer) (err error) {
			st, err = WriteTableAllUpdated(w, b.cfg.seed, rows, v2)
			return err
		})
		if err != nil {
			return fail("writing the table: %v", err)
		}
		res.TableBytes = st.Bytes
		message := "v1"
		if v2 {
			message = "v2"
		}
		if r := b.rn.run(repo, nil, b.cfg.dx, "commit", "-q", "-m", message); r.Err != nil {
			return fail("dx commit: %s", r.errLine())
		}
	}
	logf("  a table of %d rows (%s), v2 updating every row, committed", rows, human(res.TableBytes))
	// The same diff written out by the CLI, for comparison: what the
	// diff itself costs, apart from the UI.
	b.drop.drop()
	if r := b.rn.run(repo, nil, b.cfg.dx, "diff", "--rows", "--format", "jsonl", "HEAD~1", "HEAD"); r.Err == nil {
		res.CLISeconds, res.CLIPeakRSSKiB = r.Seconds, r.MaxRSSKiB
		logf("  dx diff --rows --format jsonl of it: %.2fs, peak RSS %.0f MiB", r.Seconds, float64(r.MaxRSSKiB)/1024)
	} else {
		logf("  dx diff --rows of it: %s", r.errLine())
	}
	p, _, _, err := b.uiPane(ctx, repo, showsAll("(HEAD -> main) v2", "M "+path, "── HEAD ── 1/", "q quit"))
	if err != nil {
		return fail("%v", err)
	}
	defer p.close()
	pid, err := p.pid()
	if err != nil {
		return fail("%v", err)
	}
	if res.FirstScreenRSSKiB, err = peakRSSKiB(pid); err != nil {
		return fail("%v", err)
	}
	t := time.Now()
	enter, _, err := b.openDiff(p, path)
	if err != nil {
		return fail("%v", err)
	}
	all, diff, err := diffDone(p, path, t)
	if err != nil {
		return fail("%v", err)
	}
	res.EnterToRowsSeconds, res.EnterToAllSeconds, res.DiffRows = enter.Seconds(), all.Seconds(), diff.total
	if res.ToEndSeconds, res.ToEndError = toEnd(p, fmt.Sprintf("-%d/%d ", diff.total, diff.total)); res.ToEndError != "" {
		return fail("G: %s", res.ToEndError)
	}
	if res.PeakRSSKiB, err = peakRSSKiB(pid); err != nil {
		return fail("%v", err)
	}
	logf("  dx ui, a %d-row diff: Enter → first rows %.2fs, → all %.2fs, G → last row %.2fs; peak RSS %.0f MiB (%.0f MiB at the first screen)",
		diff.total, res.EnterToRowsSeconds, res.EnterToAllSeconds, res.ToEndSeconds, float64(res.PeakRSSKiB)/1024, float64(res.FirstScreenRSSKiB)/1024)
	return res
}

// median is the middle of xs (the lower middle of an even count).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[(len(s)-1)/2]
}

// seconds lists samples as "0.123, 0.130, 0.141 s".
func seconds(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.3f", x)
	}
	return strings.Join(parts, ", ") + " s"
}
