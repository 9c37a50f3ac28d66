package main

// The worktree switch benchmark (issue 23): in the table dataset's
// repository, dx checkout from v2 to v1 and back (the table's file
// rewritten, the chunks both share copied from it), beside cp of the
// same file, page cache dropped before each, in the same run.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// switchRuns is how many times each direction and cp are timed.
const switchRuns = 3

// SwitchResult is the worktree switch benchmark.
type SwitchResult struct {
	Seconds     []float64 `json:"seconds"` // each checkout, both directions
	Median      float64   `json:"median_seconds"`
	CopiedBytes int64     `json:"bytes_copied"` // by the last checkout, from the file it replaced
	FileBytes   int64     `json:"file_bytes"`
	CpSeconds   []float64 `json:"cp_seconds"`
	CpMedian    float64   `json:"cp_median_seconds"`
	Error       string    `json:"error,omitempty"`
}

// switchVersions times dx checkout between HEAD's parent and HEAD (v1 and
// v2 of the table at rel) and cp of the table.
func (b *bench) switchVersions(repo, rel string) *SwitchResult {
	res := &SwitchResult{}
	fail := func(format string, args ...any) *SwitchResult {
		res.Error = fmt.Sprintf(format, args...)
		logf("  worktree switch: %s", res.Error)
		return res
	}
	dx := func(args ...string) (string, error) {
		r := b.rn.run(repo, nil, b.cfg.dx, args...)
		if r.Err != nil {
			return "", fmt.Errorf("dx %s: %s", strings.Join(args, " "), r.errLine())
		}
		return strings.TrimSpace(r.Stdout), nil
	}
	out, err := dx("show", "--json", "HEAD")
	if err != nil {
		return fail("%v", err)
	}
	var head struct {
		ID      string   `json:"id"`
		Parents []string `json:"parents"`
	}
	if err := json.Unmarshal([]byte(out), &head); err != nil || len(head.Parents) == 0 {
		return fail("dx show --json HEAD: no parent (%v)", err)
	}
	file := filepath.Join(repo, filepath.FromSlash(rel))
	fi, err := os.Stat(file)
	if err != nil {
		return fail("%v", err)
	}
	res.FileBytes = fi.Size()
	dst := filepath.Join(filepath.Dir(repo), "switch-cp.tmp")
	// v1, then v2, then cp of v2, and again: HEAD ends where it was
	// (detached). The cp runs come between the checkouts, not after
	// them, so that both meet the same phases of the machine.
	ids := [2]string{head.Parents[0], head.ID}
	for i := range 2 * switchRuns {
		r, _ := b.timed(repo, "checkout", "--json", "--quiet", ids[i%2])
		if r.Err != nil {
			return fail("checkout: %s", r.errLine())
		}
		var out struct {
			Copied int64 `json:"bytes_copied"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
			return fail("checkout --json: %v", err)
		}
		res.Seconds = append(res.Seconds, r.Seconds)
		res.CopiedBytes = out.Copied
		if i%2 == 0 {
			continue
		}
		c, err := b.cpTimed(b.rn, file, dst)
		if err != nil {
			return fail("%v", err)
		}
		res.CpSeconds = append(res.CpSeconds, c)
	}
	res.Median, res.CpMedian = median(res.Seconds), median(res.CpSeconds)
	logf("  worktree switch v1↔v2: %s (median %.2fs), %s copied from the old file; cp of the file %s (median %.2fs)",
		seconds(res.Seconds), res.Median, human(res.CopiedBytes), seconds(res.CpSeconds), res.CpMedian)
	return res
}

// cpTimed drops the page cache and times cp of file to dst (removed
// before and after): the bound the worktree's rows are held to, timed
// beside each of their runs, as the machine's speed swings from one
// minute to the next.
func (b *bench) cpTimed(rn *runner, file, dst string) (float64, error) {
	os.Remove(dst)
	defer os.Remove(dst)
	b.drop.drop()
	c := rn.run(filepath.Dir(dst), nil, "cp", file, dst)
	if c.Err != nil {
		return 0, fmt.Errorf("cp: %s", c.errLine())
	}
	return c.Seconds, nil
}

const (
	targetSwitch  = "worktree: checkout between v1 and v2 of the table ≤ 2× cp of the file"
	targetMergeCp = "worktree: merge of two branches' row updates into the table ≤ 2× cp of the file"
	targetPullCp  = "worktree: pull of v2 into a clone at v1 ≤ 2× cp of the table's file"
)

// switchMarkdown writes the worktree switch paragraph of the table dataset.
func switchMarkdown(p func(format string, args ...any), s *SwitchResult) {
	if s == nil || s.Error != "" {
		return
	}
	p("dx checkout between v1 and v2 (the table's file rewritten; the chunks both versions share copied from it, the rest from the store), page cache dropped before each: %s (median %.2f s; the last copied %s of %s); `cp` of the file, same conditions: %s (median %.2f s), %.2f×.\n\n",
		seconds(s.Seconds), s.Median, human(s.CopiedBytes), human(s.FileBytes), seconds(s.CpSeconds), s.CpMedian, s.Median/s.CpMedian)
}

// evaluateSwitch adds the worktree switch target of dataset d, and the
// same bound for its merge in the worktree (m, if measured), against the
// same cp.
func evaluateSwitch(add func(target, ds, result, format string, args ...any), d string, s *SwitchResult, m *MergeResult) {
	if s == nil {
		return
	}
	if s.Error != "" || len(s.Seconds) == 0 {
		add(targetSwitch, d, "FAIL", "%s", okOr(s.Error, "not measured"))
		return
	}
	ratio := s.Median / s.CpMedian
	add(targetSwitch, d, passFail(ratio <= 2), "%.2f× (median %.2f s against cp %.2f s; %s of %s copied from the old file)",
		ratio, s.Median, s.CpMedian, human(s.CopiedBytes), human(s.FileBytes))
	switch {
	case m == nil:
	case m.Error != "" || !m.Correct:
		add(targetMergeCp, d, "FAIL", "%s", okOr(m.Error, "the merged table is wrong"))
	default:
		cp, cpNote := s.CpMedian, "the switch's"
		if len(m.CpSeconds) > 0 {
			cp, cpNote = median(m.CpSeconds), "each after a run: "+seconds(m.CpSeconds)
		}
		add(targetMergeCp, d, passFail(m.Seconds <= 2*cp), "%.2f× (%.2f s, %s, %d + %d rows updated on two branches, page cache dropped, against cp %.2f s, %s)",
			m.Seconds/cp, m.Seconds, m.Note, m.RowsOurs, m.RowsTheirs, cp, cpNote)
	}
}

// evaluatePullCp adds the bound of dx's pull into a worktree against cp
// of the table's file: timed after each pull, or else the table dataset's
// switch's (s).
func evaluatePullCp(add func(target, ds, result, format string, args ...any), d string, dx *RemoteToolResult, s *SwitchResult) {
	if s == nil || s.Error != "" || len(s.CpSeconds) == 0 {
		return
	}
	if dx.PullSeconds == nil {
		add(targetPullCp, d, "FAIL", "not measured")
		return
	}
	pull := *dx.PullSeconds
	cp, cpNote := s.CpMedian, "the switch's"
	if len(dx.PullCpRuns) > 0 {
		cp, cpNote = median(dx.PullCpRuns), "each after a pull: "+seconds(dx.PullCpRuns)
	}
	add(targetPullCp, d, passFail(pull <= 2*cp), "%.2f× (%.2f s, median of %s; %s received from MinIO, page cache dropped, against cp %.2f s, %s)",
		pull/cp, pull, seconds(dx.PullRuns), human(fromPtr(dx.PullBytesRead)), cp, cpNote)
}
