package main

// The Markdown report (bench/RESULTS.md).

import (
	"fmt"
	"strings"
)

func fmtF(p *float64, prec int) string {
	if p == nil {
		return "—"
	}
	return fmt.Sprintf("%.*f", prec, *p)
}

func fmtMiB(p *int64, div float64) string {
	if p == nil {
		return "—"
	}
	return fmt.Sprintf("%.1f", float64(*p)/div)
}

func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.ReplaceAll(s, "\n", " ")
}

// Markdown renders the report.
func (rep *Report) Markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	m := rep.Machine
	p("# dx benchmark results\n\n")
	if !rep.Complete {
		if rep.Interrupted {
			p("> **Incomplete: the run was interrupted.**\n\n")
		} else {
			p("> **Partial results: the run is still in progress.**\n\n")
		}
	}
	p("- Date: %s (run took %.0f s)\n", m.Date, rep.ElapsedSeconds)
	p("- Machine: %d CPUs, %s, %s RAM, Linux %s\n", m.NProc, orDash(m.CPUModel), orDash(m.MemTotal), orDash(m.Kernel))
	p("- Go: %s\n", m.GoVersion)
	dxv := rep.DX
	if rep.DXVersion != "" {
		dxv += " (" + rep.DXVersion + ")"
	}
	p("- dx: `%s`\n", dxv)
	p("- Scale: %g (seed %d)\n", rep.Scale, rep.Seed)
	p("- Page cache dropped before timed runs: %s\n", rep.CacheDrop)
	var peers []string
	for _, pi := range rep.Peers {
		if pi.Installed {
			peers = append(peers, fmt.Sprintf("%s (%s)", pi.Name, pi.Version))
		} else {
			peers = append(peers, pi.Name+": not installed")
		}
	}
	if len(peers) == 0 {
		peers = []string{"none requested"}
	}
	p("- Peers: %s\n", strings.Join(peers, "; "))
	p("- Command: `%s`\n\n", strings.Join(rep.Command, " "))

	p("MB/s is 10⁶ bytes of input per wall-clock second. Stored size is the total size of the repository " +
		"(`.dx/`, the restic/borg repo, or `.git/`) after the first commit. Growth is how much it grew with " +
		"the second version, as a percentage of the first stored size. The no-change re-commit (peers: re-run of " +
		"the same backup) follows the first commit immediately. Peak RSS is the largest `ru_maxrss` of the " +
		"tool's processes over all its runs on the dataset. The ceiling row is `dx debug ceiling` (read + chunk + " +
		"hash + compress on all cores, no storing), timed like the rest by the wall clock of the whole command " +
		"(its status notes the time of the ingest alone); its stored size is what it would store. The store-ceiling " +
		"row is `dx debug ceiling --write`: the same, and writing the compressed chunks in packs of 16 MiB " +
		"directly, synced and renamed into place as a commit writes them, with none of the store's other work: " +
		"the disk writes no commit can skip.\n\n")

	for _, d := range rep.Datasets {
		p("## %s\n\n", d.Title)
		p("- v1: %s in %d files", human(d.V1Bytes), d.V1Files)
		if d.V1Desc != "" {
			p(" (%s)", d.V1Desc)
		}
		p("\n")
		if d.V2Bytes > 0 {
			p("- v2: %s in %d files: %s\n", human(d.V2Bytes), d.V2Files, d.V2Desc)
		}
		p("\n| tool | first MB/s | first s | first stored MiB | no-change re-commit s | second-commit s | growth %% | checkout MB/s | peak RSS MiB | status |\n")
		p("|---|--:|--:|--:|--:|--:|--:|--:|--:|---|\n")
		for _, r := range d.Results {
			status := r.Status
			if r.Error != "" {
				status += ": " + r.Error
			}
			if r.Verify != "" {
				status += "; checkout verify " + r.Verify
			}
			for _, n := range r.Notes {
				status += "; " + n
			}
			p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Tool,
				fmtF(r.FirstMBps, 1), fmtF(r.FirstSeconds, 2), fmtMiB(r.FirstStoredBytes, 1<<20),
				fmtF(r.RecommitSeconds, 2), fmtF(r.SecondSeconds, 2), fmtF(r.GrowthPct, 2),
				fmtF(r.CheckoutMBps, 1), fmtMiB(r.PeakRSSKiB, 1024), mdEscape(status))
		}
		p("\n")
		if dx := d.result("dx"); dx != nil && (dx.FirstRSSKiB != nil || dx.CheckoutRSSKiB != nil) {
			p("dx peak RSS: first commit %s MiB, checkout %s MiB.\n\n", fmtMiB(dx.FirstRSSKiB, 1024), fmtMiB(dx.CheckoutRSSKiB, 1024))
		}
		if dx := d.result("dx"); dx != nil && dx.RowDiff != nil {
			rd := dx.RowDiff
			p("dx row diff (`dx diff --rows --format jsonl HEAD~1 HEAD`, every changed row written; page cache dropped): %.2f s; read %s of %s (both versions, %.1f%%), parsed %s; rows +%d −%d ~%d (generator: %s). Reference: Dolt %.2f s for the row diff of a 2%% change on a 2M-row, 134 MB table (measured elsewhere; Dolt cannot be built here).\n\n",
				rd.Seconds, human(rd.BytesRead), human(rd.BytesTotal), 100*float64(rd.BytesRead)/float64(max(1, rd.BytesTotal)),
				human(rd.BytesParsed), rd.Added, rd.Removed, rd.Changed, rd.Expected, doltDiffSeconds)
			if dd := rd.DuckDB; dd != nil && dd.Error == "" {
				p("Parquet: dx decoded %d rows (%s of compressed pages). DuckDB (npm @duckdb/node-api, `v2 EXCEPT v1` and `v1 EXCEPT v2`, changed rows matched by id; page cache dropped) in the same run: %.2f s for the query, %.2f s with node's start; +%d −%d ~%d, the same as dx: %v.\n\n",
					rd.RowsDecoded, human(rd.BytesParsed), dd.Seconds, dd.WallSeconds, dd.Added, dd.Removed, dd.Changed, dd.Agrees)
			}
		}
		if dx := d.result("dx"); dx != nil && dx.Merge != nil && dx.Merge.Error == "" {
			m := dx.Merge
			p("dx merge (`dx merge` of a branch into another, the two updating %d and %d disjoint rows of v1, the whole worktree file written anew (Dolt writes no file); page cache dropped): %.2f s (%s), peak RSS %s MiB; %d rows applied and %d runs of changed chunks taken whole unread (key ranges showed no key changed on both sides), %d conflicts; merged table byte-identical to the expected: %v. The same merge again from the same state, page cache warm: %.2f s. Reference: Dolt %.2f s for a three-way merge with 200 disjoint row updates per branch on a 2M-row, 134 MB table (measured elsewhere).\n\n",
				m.RowsOurs, m.RowsTheirs, m.Seconds, m.Note, fmtMiB(&m.PeakRSSKiB, 1024), m.Applied, m.UnreadRuns, m.Conflicts, m.Correct, m.WarmSeconds, doltMergeSeconds)
			if in := m.Into; in != nil && in.Error == "" {
				p("dx merge --into (the same merge into a branch that is not checked out, in the store alone, as Dolt's merge; page cache dropped): %.2f s (%s), peak RSS %s MiB; %d rows applied and %d runs taken unread; the same tree as the merge in the worktree: %v. Page cache warm: %.2f s (median of 3).\n\n",
					in.Seconds, in.Note, fmtMiB(&in.PeakRSSKiB, 1024), in.Applied, in.UnreadRuns, in.Correct, in.WarmSeconds)
			}
		}
		if dx := d.result("dx"); dx != nil {
			contractMarkdown(p, dx.Contract)
			dialectMarkdown(p, dx.Dialect, dx.RowDiff, false)
			dialectMarkdown(p, dx.DialectQuoted, dx.RowDiff, true)
			switchMarkdown(p, dx.Switch)
			extentMarkdown(p, dx.InPlace, dx.Extents)
			profileMarkdown(p, dx.Profile)
		}
		for _, n := range d.Notes {
			p("%s\n\n", n)
		}
	}

	rep.uiMarkdown(p)
	rep.remoteMarkdown(p)

	p("## Targets\n\n")
	if len(rep.Targets) == 0 {
		p("Nothing evaluated.\n")
		return b.String()
	}
	p("| target | dataset | result | detail |\n|---|---|---|---|\n")
	for _, t := range rep.Targets {
		res := t.Result
		if res == "PASS" || res == "FAIL" {
			res = "**" + res + "**"
		}
		p("| %s | %s | %s | %s |\n", t.Target, t.Dataset, res, mdEscape(t.Detail))
	}
	p("\nSummary: %s.\n", rep.Summary)
	if rep.Scale != 1 {
		p("\nThe targets are stated for scale 1.0; this run used scale %g, so treat them as indicative only.\n", rep.Scale)
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
