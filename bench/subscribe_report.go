package main

// The regions benchmark's report and targets.

import (
	"fmt"
	"sort"
	"strings"
)

// Regions targets (issue 17).
const (
	targetNotified  = "regions: push → command, notifications, median < 1 s"
	targetPolled    = "regions: push → command, polling at 1 s, median < 1.5 s"
	targetThroughB  = "regions: push to A → command in region B through replicate --watch, median < 1 s"
	targetReplicate = "regions: dx replicate of a change sends ≤ 2× the new packs and is faster than rclone and aws"
)

// subscribeMarkdown writes the regions section.
func (rep *Report) subscribeMarkdown(p func(format string, args ...any)) {
	sr := rep.Remote.Subscribe
	if sr == nil {
		return
	}
	p("## Regions: a subscriber reacting to pushes (MinIO)\n\n")
	if sr.Status != "ok" {
		p("%s: %s\n\n", sr.Status, sr.Error)
		return
	}
	p("The table's publisher repository pushes to the MinIO above; a clone of it runs `dx subscribe origin main --from head "+
		"--exec 'date +%%s.%%N >> log'`. Each of %d pushes changes %d rows (0.01%%) of the %s table in place, commits and pushes; "+
		"the figure is the time from `dx push` returning to the command's first action (a negative one: the command started "+
		"before the pusher's process had exited), which includes the subscriber's fetch of the new objects and the delta "+
		"it writes. Then the subscriber is left idle for a minute: the server's request counters (MinIO's metrics) and the "+
		"subscriber's CPU time. The third row is the whole way between regions: `dx replicate A B --watch` copies each push "+
		"to a second MinIO (region B), where the subscriber follows it; both are woken by notifications.\n\n", subscribePushes, sr.ChangedRows, human(sr.TableBytes))
	p("| waking | pushes | median s | p95 s | max s | idle requests/min | idle CPU s/hour | status |\n|---|--:|--:|--:|--:|--:|--:|---|\n")
	for i, l := range sr.Paths {
		reqs, cpu, status := "—", "—", "ok"
		if l.Error != "" {
			status = "failed: " + l.Error
		}
		if i < len(sr.Idle) {
			if id := sr.Idle[i]; id.Error == "" && id.Seconds > 0 {
				reqs = fmtF(&id.RequestsPerMinute, 1) + " " + apis(id.ByAPI)
				cpu = fmtF(&id.CPUSecondsPerHour, 1)
			} else if id.Error != "" {
				status += "; idle: " + id.Error
			}
		}
		p("| %s | %d | %s | %s | %s | %s | %s | %s |\n", l.Waking, len(l.Samples), fmtF(&l.Median, 3), fmtF(&l.P95, 3), fmtF(&l.Max, 3), reqs, cpu, mdEscape(status))
	}
	p("\n")
	rb := sr.Replicate
	if rb == nil {
		return
	}
	p("Replication of %d such changes to region B, one at a time, a second MinIO on this machine, after an untimed first copy of ", replicateRounds)
	p(
		"the table's whole remote: `dx replicate` of the remote's URL; `rclone sync` from A to B (both configured as S3 "+
			"remotes, streamed through this machine); the aws CLI, which reaches one endpoint per command, as `aws s3 sync` "+
			"from A to a local mirror then from the mirror to B. Time: the median copy of one change; bytes: what the tool's bucket on B grew by "+
			"over the %d; the pushes added %s of packs on A.", replicateRounds, human(rb.NewPackBytes))
	if rb.Error != "" {
		p(" Failed: %s.", rb.Error)
	}
	p("\n\n| tool | median s | runs | B grew MiB | status |\n|---|--:|---|--:|---|\n")
	for _, r := range rb.Results {
		status := r.Status
		if r.Error != "" {
			status += ": " + r.Error
		}
		if r.Version != "" {
			status += " (" + r.Version + ")"
		}
		if r.Reported != nil {
			status += fmt.Sprintf("; dx reports %s of packs and indexes copied", human(*r.Reported))
		}
		runs := make([]string, len(r.Samples))
		for i, x := range r.Samples {
			runs[i] = fmt.Sprintf("%.2f", x)
		}
		p("| %s | %s | %s | %s | %s |\n", r.Tool, fmtF(r.Seconds, 2), strings.Join(runs, ", "), fmtBytesMiB(r.BGrowth), mdEscape(status))
	}
	p("\n")
}

func apis(m map[string]int64) string {
	var parts []string
	for api, n := range m {
		parts = append(parts, fmt.Sprintf("%s %d", api, n))
	}
	if len(parts) == 0 {
		return ""
	}
	sort.Strings(parts)
	return "(" + strings.Join(parts, ", ") + " in the minute)"
}

// evaluateSubscribe adds the regions targets.
func (rep *Report) evaluateSubscribe(add func(target, ds, result, format string, args ...any)) {
	if rep.Remote == nil || rep.Remote.Subscribe == nil {
		return
	}
	sr := rep.Remote.Subscribe
	for i, c := range []struct {
		target string
		limit  float64
	}{{targetNotified, 1}, {targetPolled, 1.5}, {targetThroughB, 1}} {
		switch {
		case sr.Status != "ok":
			add(c.target, "table", "FAIL", "%s", sr.Error)
		case i >= len(sr.Paths) || len(sr.Paths[i].Samples) == 0:
			msg := "not measured"
			if i < len(sr.Paths) && sr.Paths[i].Error != "" {
				msg = sr.Paths[i].Error
			}
			add(c.target, "table", "FAIL", "%s", msg)
		default:
			l := sr.Paths[i]
			add(c.target, "table", passFail(l.Median < c.limit), "median %.3f s, p95 %.3f s over %d pushes of a %d-row change",
				l.Median, l.P95, len(l.Samples), sr.ChangedRows)
		}
	}
	rb := sr.Replicate
	if rb == nil {
		return
	}
	var dx *ReplicateToolResult
	var peers []*ReplicateToolResult
	for _, r := range rb.Results {
		if r.Tool == "dx" {
			dx = r
		} else {
			peers = append(peers, r)
		}
	}
	switch {
	case rb.Error != "":
		add(targetReplicate, "table", "FAIL", "%s", rb.Error)
	case dx == nil || dx.Seconds == nil:
		add(targetReplicate, "table", "FAIL", "dx: %s", dx.Error)
	default:
		ok := *dx.BGrowth <= 2*rb.NewPackBytes
		detail := fmt.Sprintf("medians of %d changes: dx %.2f s, B grew %s (new packs %s)", replicateRounds, *dx.Seconds, human(*dx.BGrowth), human(rb.NewPackBytes))
		measured := 0
		for _, p := range peers {
			if p.Seconds == nil {
				detail += fmt.Sprintf("; %s %s", p.Tool, p.Status)
				continue
			}
			measured++
			ok = ok && *dx.Seconds < *p.Seconds
			detail += fmt.Sprintf("; %s %.2f s, B grew %s", p.Tool, *p.Seconds, human(*p.BGrowth))
		}
		res := passFail(ok)
		if ok && measured == 0 {
			res = "N/A"
		}
		add(targetReplicate, "table", res, "%s", detail)
	}
}
