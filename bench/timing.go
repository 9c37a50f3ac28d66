package main

// Timing dx's commands: the page cache dropped before each, and the
// median of three for the short ones.

import (
	"fmt"
	"sort"
	"strings"
)

func mbps(n int64, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return float64(n) / 1e6 / seconds
}

// timed drops caches, then runs one dx command in repo.
func (b *bench) timed(repo string, args ...string) (runResult, bool) {
	dropped := b.drop.drop()
	logf("  dx %s ...", strings.Join(args, " "))
	r := b.rn.run(repo, nil, b.cfg.dx, args...)
	if r.Err != nil {
		logf("  dx %s: %s (%.1fs)", args[0], r.errLine(), r.Seconds)
	} else {
		logf("  dx %s: %.2fs, peak RSS %.0f MiB", args[0], r.Seconds, float64(r.MaxRSSKiB)/1024)
	}
	return r, dropped
}

// shortRun: a ceiling, first commit or merge timed under this many
// seconds is run three times and its median taken (as hyperfine would):
// on these virtual machines the same run varies much from one minute to
// the next, and in a short run start-up and the final sync weigh in too.
// (Only the 4 GiB file, whose runs are long, is run once.)
const shortRun = 10.0

// median runs again twice more and returns the run with the median time,
// and a note of all three times. A failed run is returned as it is.
func (b *bench) median(first runResult, again func() (runResult, bool)) (runResult, string) {
	runs := []runResult{first}
	for range 2 {
		r, _ := again()
		if r.Err != nil {
			return r, ""
		}
		runs = append(runs, r)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].Seconds < runs[j].Seconds })
	return runs[1], fmt.Sprintf("median of 3 runs: %.2f, %.2f, %.2f s", runs[0].Seconds, runs[1].Seconds, runs[2].Seconds)
}

// series is one measurement to be repeated: run times it once.
type series struct {
	run func() (runResult, bool)
	// res is the median run (or the only one, or the first failed one),
	// note the times of all three.
	res     runResult
	dropped bool
	note    string
}

// interleave runs each series once, in order, and then, when any first
// run was short, two more rounds of every series that did not fail, the
// second in the reverse order (so that none always follows another's
// clean-up), taking each one's median. A ratio of two of them (dx against
// its ceiling) then compares runs made seconds apart: measured in blocks,
// one after the other, they were minutes apart, and the VM's speed moves
// by a third in that time. The series repeat together or not at all: a
// median against a single run compared a run made first with ones made
// after clean-ups (a removal of 200,000 files slows ext4's creates for
// minutes after).
func (b *bench) interleave(ss ...*series) {
	runs := make([][]runResult, len(ss))
	for i, s := range ss {
		s.res, s.dropped = s.run()
		runs[i] = []runResult{s.res}
	}
	short := false
	for _, rs := range runs {
		short = short || (rs[0].Err == nil && rs[0].Seconds < shortRun)
	}
	again := func(i int) bool { return short && runs[i][0].Err == nil }
	for round := range 2 {
		for k := range ss {
			i := k
			if round == 0 {
				i = len(ss) - 1 - k
			}
			s := ss[i]
			if !again(i) || s.res.Err != nil {
				continue
			}
			r, _ := s.run()
			if r.Err != nil {
				s.res = r
				continue
			}
			runs[i] = append(runs[i], r)
		}
	}
	for i, s := range ss {
		if !again(i) || s.res.Err != nil {
			continue
		}
		rs := runs[i]
		sort.Slice(rs, func(a, b int) bool { return rs[a].Seconds < rs[b].Seconds })
		s.res = rs[1]
		s.note = fmt.Sprintf("median of 3 runs: %.2f, %.2f, %.2f s", rs[0].Seconds, rs[1].Seconds, rs[2].Seconds)
	}
}
