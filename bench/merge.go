package main

// Merging two branches of a table: in the worktree and with --into.

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// merge makes two branches off v1 that each update a disjoint ~0.01% of
// the rows, times merging one into the other, and checks the result
// byte for byte.
func (b *bench) merge(ds *dataset, repo string) *MergeResult {
	m := &MergeResult{}
	step := func(args ...string) bool {
		if r := b.rn.run(repo, nil, b.cfg.dx, args...); r.Err != nil {
			m.Error = fmt.Sprintf("dx %s: %s", strings.Join(args, " "), r.errLine())
			logf("  dx merge FAILED: %s", m.Error)
			return false
		}
		return true
	}
	if !step("branch", "merge-a", "HEAD~1") || !step("branch", "merge-b", "HEAD~1") || !step("checkout", "--quiet", "--force", "merge-a") {
		return m
	}
	st, err := ds.writeBranches(repo, true, false)
	if err != nil {
		m.Error = err.Error()
		return m
	}
	m.RowsOurs = st.Updated
	if !step("commit", "--quiet", "-m", "branch a") || !step("checkout", "--quiet", "merge-b") {
		return m
	}
	if st, err = ds.writeBranches(repo, false, true); err != nil {
		m.Error = err.Error()
		return m
	}
	m.RowsTheirs = st.Updated
	if !step("commit", "--quiet", "-m", "branch b") || !step("checkout", "--quiet", "merge-a") || !step("branch", "merge-warm", "merge-a") || !step("branch", "merge-a0", "merge-a") {
		return m
	}
	// Each run is followed by cp of the merged file, page cache dropped:
	// the row's bound, met in the same phase of the machine.
	cpDst := filepath.Join(filepath.Dir(repo), "merge-cp.tmp")
	timedMerge := func() (runResult, bool) {
		r, dropped := b.timed(repo, "merge", "--json", "merge-b")
		if r.Err == nil {
			if c, err := b.cpTimed(b.rn, filepath.Join(repo, ds.tablePath), cpDst); err == nil {
				m.CpSeconds = append(m.CpSeconds, c)
			}
		}
		return r, dropped
	}
	r, _ := timedMerge()
	if r.Err != nil {
		m.Error = "dx merge: " + r.errLine()
		logf("  dx merge FAILED: %s", m.Error)
		return m
	}
	m.Seconds, m.PeakRSSKiB, m.Note = r.Seconds, r.MaxRSSKiB, "one run"
	if m.Applied, m.UnreadRuns, m.Conflicts, err = mergeApplied(r.Stdout); err != nil {
		m.Error = "dx merge --json: " + err.Error()
		return m
	}
	want, err := ds.hashMerged()
	if err != nil {
		m.Error = err.Error()
		return m
	}
	got, err := hashFile(filepath.Join(repo, ds.tablePath), make([]byte, 1<<20))
	if err != nil {
		m.Error = err.Error()
		return m
	}
	// Rows in runs taken unread are not counted: then fewer.
	m.Correct = got == want && (m.Applied == m.RowsTheirs || m.UnreadRuns > 0 && m.Applied < m.RowsTheirs)
	logf("  dx merge: %.2fs, %d rows applied and %d runs taken unread (branches %d + %d), %d conflicts, result exact: %v", m.Seconds, m.Applied, m.UnreadRuns, m.RowsOurs, m.RowsTheirs, m.Conflicts, m.Correct)
	// Short, it is timed twice more, each from a fresh copy of merge-a0
	// checked out, and the median taken (the VM's speed swings).
	if m.Correct && m.Seconds < shortRun {
		k := 0
		again := func() (runResult, bool) {
			k++
			c := fmt.Sprintf("merge-c%d", k)
			if !step("branch", c, "merge-a0") || !step("checkout", "--quiet", c) {
				return runResult{Err: errors.New(m.Error)}, false
			}
			return timedMerge()
		}
		if r, m.Note = b.median(r, again); r.Err != nil {
			m.CpSeconds = nil
			m.Error = "dx merge: " + r.errLine()
			return m
		}
		m.Seconds = r.Seconds
		if !step("checkout", "--quiet", "merge-a") {
			return m
		}
	}
	m.Into = b.mergeInto(repo)
	// The same merge again from the same state (a copy of merge-a from
	// before it), the page cache left warm.
	if step("checkout", "--quiet", "merge-warm") {
		if r := b.rn.run(repo, nil, b.cfg.dx, "merge", "--quiet", "merge-b"); r.Err == nil {
			m.WarmSeconds = r.Seconds
			logf("  dx merge again, page cache warm: %.2fs", r.Seconds)
		}
		step("checkout", "--quiet", "merge-a")
	}
	m.Delta = b.delta(repo)
	return m
}

// mergeApplied reads `dx merge --json`: the rows applied to the tables,
// and the conflicts.
// unread counts the runs of chunks taken whole unread (their rows are
// not counted in applied).
func mergeApplied(stdout string) (applied int64, unread, conflicts int, err error) {
	var out struct {
		Tables []struct {
			Added, Changed, Removed int64
			UnreadRuns              int `json:"unread_runs"`
		}
		Conflicts []any
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		return 0, 0, 0, err
	}
	for _, t := range out.Tables {
		applied += t.Added + t.Changed + t.Removed
		unread += t.UnreadRuns
	}
	return applied, unread, len(out.Conflicts), nil
}

// mergeInto times the same merge into merge-into, a copy of merge-a from
// before it (merge-a0) that is not checked out, and checks that it makes
// the tree the merge in the worktree made. Short, it is timed three times
// (merge-into made again from merge-a0 each time) and the median taken.
func (b *bench) mergeInto(repo string) *MergeIntoResult {
	in := &MergeIntoResult{}
	reset := func() runResult {
		for _, args := range [][]string{{"branch", "-D", "merge-into"}, {"branch", "merge-into", "merge-a0"}} {
			if r := b.rn.run(repo, nil, b.cfg.dx, args...); r.Err != nil && args[1] != "-D" {
				return r
			}
		}
		return runResult{}
	}
	once := func() (runResult, bool) {
		if r := reset(); r.Err != nil {
			return r, false
		}
		return b.timed(repo, "merge", "--json", "--into", "merge-into", "merge-b")
	}
	r, _ := once()
	in.Note = "one run"
	if r.Err == nil && r.Seconds < shortRun {
		r, in.Note = b.median(r, once)
	}
	if r.Err != nil {
		in.Error = "dx merge --into: " + r.errLine()
		logf("  dx merge --into FAILED: %s", in.Error)
		return in
	}
	in.Seconds, in.PeakRSSKiB = r.Seconds, r.MaxRSSKiB
	var err error
	if in.Applied, in.UnreadRuns, _, err = mergeApplied(r.Stdout); err != nil {
		in.Error = "dx merge --into --json: " + err.Error()
		return in
	}
	d := b.rn.run(repo, nil, b.cfg.dx, "diff", "--json", "merge-into", "merge-a")
	if d.Err != nil {
		in.Error = "dx diff: " + d.errLine()
		return in
	}
	var changes []any
	if err := json.Unmarshal([]byte(d.Stdout), &changes); err != nil {
		in.Error = "dx diff --json: " + err.Error()
		return in
	}
	in.Correct = len(changes) == 0
	logf("  dx merge --into: %.2fs, %d rows applied and %d runs taken unread, same tree as the merge in the worktree: %v", in.Seconds, in.Applied, in.UnreadRuns, in.Correct)
	// Again with the page cache left warm (the median of three).
	warm := func() (runResult, bool) {
		if r := reset(); r.Err != nil {
			return r, false
		}
		return b.rn.run(repo, nil, b.cfg.dx, "merge", "--json", "--into", "merge-into", "merge-b"), false
	}
	if w, _ := warm(); w.Err == nil {
		if w, _ = b.median(w, warm); w.Err == nil {
			in.WarmSeconds = w.Seconds
			logf("  dx merge --into, page cache warm: %.2fs", w.Seconds)
		}
	}
	return in
}
