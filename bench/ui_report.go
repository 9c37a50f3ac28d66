package main

// The terminal UI benchmark's results, report and targets.

import "fmt"

// UI targets (issue 18).
const (
	targetUIHistory    = "ui: first screen of dx ui on a 100,000-commit history < 200 ms"
	targetUITable      = "ui: first screen of dx ui on the 1 GiB table's history < 200 ms"
	targetUIEnter      = "ui: Enter on the changed 1 GiB table → its first diff rows < 1 s"
	targetUIBigDiffRSS = "ui: peak RSS scrolling a 1-million-row diff to its end < 200 MiB"
)

// UIReport is the terminal UI benchmark: dx ui in an 80×24 tmux pane.
type UIReport struct {
	Status  string           `json:"status"` // ok, N/A (no tmux)
	Note    string           `json:"note,omitempty"`
	Tmux    string           `json:"tmux,omitempty"`
	History *UIHistoryResult `json:"history,omitempty"`
	Table   *UITableResult   `json:"table,omitempty"`
	BigDiff *UIBigDiffResult `json:"big_diff,omitempty"`
}

// UIHistoryResult is dx ui on a long linear history made by dx debug
// history.
type UIHistoryResult struct {
	Commits         int     `json:"commits"`
	GenerateSeconds float64 `json:"generate_seconds"`
	// FirstScreen: from Enter starting dx ui to the newest commit, its
	// details and the key hint on screen, the page cache dropped before
	// each run.
	FirstScreen       []float64 `json:"first_screen_seconds"`
	FirstScreenMedian float64   `json:"first_screen_median_seconds"`
	// LoadedAtFirstScreen is how many commits the title line said were
	// loaded on the first screen.
	LoadedAtFirstScreen int `json:"loaded_at_first_screen"`
	// ToEndSeconds: from G to the last commit selected (once).
	ToEndSeconds float64 `json:"to_end_seconds"`
	ToEndError   string  `json:"to_end_error,omitempty"`
	Error        string  `json:"error,omitempty"`
}

// UITableResult is dx ui on the table dataset's repository after its v1
// and v2 commits.
type UITableResult struct {
	TableBytes        int64     `json:"table_bytes"`
	FirstScreen       []float64 `json:"first_screen_seconds"`
	FirstScreenMedian float64   `json:"first_screen_median_seconds"`
	// EnterToRows: from Enter on the changed table in the detail pane to
	// the first rows of its diff on screen, the page cache dropped before.
	EnterToRows       []float64 `json:"enter_to_rows_seconds"`
	EnterToRowsMedian float64   `json:"enter_to_rows_median_seconds"`
	// EnterToAll: from the same Enter to the drill-down's count of all
	// the changed rows (the diff streams in while the rows show).
	EnterToAll       []float64 `json:"enter_to_all_seconds"`
	EnterToAllMedian float64   `json:"enter_to_all_median_seconds"`
	DiffRows         int64     `json:"diff_rows"` // the changed rows the drill-down counts
	Error            string    `json:"error,omitempty"`
}

// UIBigDiffResult is dx ui on a table whose second version changes every
// one of its Rows rows: the diff opened and scrolled to its end.
type UIBigDiffResult struct {
	Rows               int64   `json:"rows"`
	TableBytes         int64   `json:"table_bytes"`
	DiffRows           int64   `json:"diff_rows"`
	EnterToRowsSeconds float64 `json:"enter_to_rows_seconds"`
	EnterToAllSeconds  float64 `json:"enter_to_all_seconds"`
	ToEndSeconds       float64 `json:"to_end_seconds"`
	ToEndError         string  `json:"to_end_error,omitempty"`
	// VmHWM of the dx process at the first screen, and after the end of
	// the diff was on screen.
	FirstScreenRSSKiB int64 `json:"first_screen_peak_rss_kib"`
	// CLISeconds and CLIPeakRSSKiB: dx diff --rows --format jsonl of the
	// same two commits (output discarded), for comparison.
	CLISeconds    float64 `json:"cli_diff_seconds"`
	CLIPeakRSSKiB int64   `json:"cli_diff_peak_rss_kib"`
	PeakRSSKiB    int64   `json:"peak_rss_kib"`
	Error         string  `json:"error,omitempty"`
}

// uiMarkdown writes the terminal UI section.
func (rep *Report) uiMarkdown(p func(format string, args ...any)) {
	ui := rep.UI
	if ui == nil {
		return
	}
	p("## Terminal UI: dx ui in a real terminal\n\n")
	if ui.Status != "ok" {
		p("%s: %s\n\n", ui.Status, ui.Note)
		return
	}
	p("`dx ui` runs in an 80×24 pane of a tmux server of the benchmark's own (%s): a shell in the pane waits for a line, "+
		"then execs dx; the clock starts as `tmux send-keys` sends that line (or the key measured) and stops at the first "+
		"`capture-pane` (read every %v, a few ms each) that shows what is expected. The page cache is dropped before "+
		"each start and before each Enter, as for the other timings. A first screen is the newest commit in the list, its "+
		"details with the changed path, and the key hint.\n\n", ui.Tmux, pollEvery)
	p("| figure | runs | median | status |\n|---|---|--:|---|\n")
	if h := ui.History; h != nil {
		p("| first screen, %d commits (`dx debug history`, %.1f s to write) | %s | %s | %s |\n", h.Commits, h.GenerateSeconds,
			seconds(h.FirstScreen), ms(h.FirstScreenMedian, h.FirstScreen), mdEscape(okOr(h.Error, fmt.Sprintf("%d commits loaded at the first screen", h.LoadedAtFirstScreen))))
		p("| G to the last of %d commits | once | %s | %s |\n", h.Commits, secs(h.ToEndSeconds), mdEscape(okOr(h.ToEndError, "")))
	}
	if t := ui.Table; t != nil {
		p("| first screen, the %s table's history (v1, v2) | %s | %s | %s |\n", human(t.TableBytes), seconds(t.FirstScreen),
			ms(t.FirstScreenMedian, t.FirstScreen), mdEscape(okOr(t.Error, "")))
		p("| Enter on the changed table → its first diff rows | %s | %s | %s |\n", seconds(t.EnterToRows),
			secs(t.EnterToRowsMedian), mdEscape(okOr(t.Error, fmt.Sprintf("%d changed rows", t.DiffRows))))
		p("| Enter on the changed table → all its diff rows counted | %s | %s | %s |\n", seconds(t.EnterToAll),
			secs(t.EnterToAllMedian), mdEscape(okOr(t.Error, fmt.Sprintf("%d changed rows", t.DiffRows))))
	} else {
		p("| first screen and Enter on the table's history | — | — | not measured: the table dataset did not run |\n")
	}
	if d := ui.BigDiff; d != nil {
		p("| Enter → first rows of a %d-row diff (%s table, v2 updating every row) | once | %s | %s |\n", d.Rows, human(d.TableBytes),
			secs(d.EnterToRowsSeconds), mdEscape(okOr(d.Error, fmt.Sprintf("%d changed rows", d.DiffRows))))
		p("| Enter → all %d rows of it counted | once | %s | |\n", d.DiffRows, secs(d.EnterToAllSeconds))
		p("| then G to its last row | once | %s | peak RSS (VmHWM) %.0f MiB; %.0f MiB at the first screen |\n",
			secs(d.ToEndSeconds), float64(d.PeakRSSKiB)/1024, float64(d.FirstScreenRSSKiB)/1024)
		p("| for comparison: `dx diff --rows --format jsonl` of the same diff, output discarded | once | %s | peak RSS %.0f MiB |\n",
			secs(d.CLISeconds), float64(d.CLIPeakRSSKiB)/1024)
	}
	p("\n")
}

func okOr(err, note string) string {
	if err != "" {
		return "failed: " + err
	}
	if note == "" {
		return "ok"
	}
	return "ok; " + note
}

// ms is a median in milliseconds, "—" without samples.
func ms(v float64, samples []float64) string {
	if len(samples) == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f ms", v*1000)
}

func secs(v float64) string {
	if v == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f s", v)
}

// evaluateUI adds the UI targets.
func (rep *Report) evaluateUI(add func(target, ds, result, format string, args ...any)) {
	ui := rep.UI
	if ui == nil {
		return
	}
	if ui.Status != "ok" {
		for _, t := range []string{targetUIHistory, targetUITable, targetUIEnter, targetUIBigDiffRSS} {
			add(t, "ui", "N/A", "%s", ui.Note)
		}
		return
	}
	if h := ui.History; h != nil {
		if len(h.FirstScreen) < uiRuns {
			add(targetUIHistory, "ui", "FAIL", "%s", okOr(h.Error, "not measured"))
		} else {
			add(targetUIHistory, "ui", passFail(h.FirstScreenMedian < 0.2), "median %.0f ms (%s); %d of %d commits loaded at the first screen",
				h.FirstScreenMedian*1000, seconds(h.FirstScreen), h.LoadedAtFirstScreen, h.Commits)
		}
	}
	t := ui.Table
	switch {
	case t == nil:
		for _, target := range []string{targetUITable, targetUIEnter} {
			add(target, "table", "N/A", "the table dataset did not run")
		}
	case t.Error != "" || len(t.EnterToRows) < uiRuns:
		for _, target := range []string{targetUITable, targetUIEnter} {
			add(target, "table", "FAIL", "%s", okOr(t.Error, "not measured"))
		}
	default:
		add(targetUITable, "table", passFail(t.FirstScreenMedian < 0.2), "median %.0f ms (%s) on the %s table's history",
			t.FirstScreenMedian*1000, seconds(t.FirstScreen), human(t.TableBytes))
		add(targetUIEnter, "table", passFail(t.EnterToRowsMedian < 1), "median %.2f s (%s) to the first of %d changed rows (all counted: median %.2f s); the row diff streams in",
			t.EnterToRowsMedian, seconds(t.EnterToRows), t.DiffRows, t.EnterToAllMedian)
	}
	if d := ui.BigDiff; d != nil {
		if d.Error != "" {
			add(targetUIBigDiffRSS, "ui", "FAIL", "%s", d.Error)
		} else {
			mib := float64(d.PeakRSSKiB) / 1024
			add(targetUIBigDiffRSS, "ui", passFail(mib < 200), "VmHWM %.0f MiB over a %d-row diff (%s table): Enter → first rows %.2f s, → all %.2f s, G → last row %.2f s; %.0f MiB at the first screen; the drill-down holds offsets and reads back the rows on screen (dx diff --rows of it: %.2f s, peak RSS %.0f MiB)",
				mib, d.DiffRows, human(d.TableBytes), d.EnterToRowsSeconds, d.EnterToAllSeconds, d.ToEndSeconds, float64(d.FirstScreenRSSKiB)/1024, d.CLISeconds, float64(d.CLIPeakRSSKiB)/1024)
		}
	}
}
