package main

// The remote benchmark in the Markdown report.

import (
	"fmt"
	"strings"
)

func fmtBytesMiB(p *int64) string { return fmtMiB(p, 1<<20) }

// remoteMarkdown renders the remote benchmark.
func (rep *Report) remoteMarkdown(p func(format string, args ...any)) {
	rr := rep.Remote
	if rr == nil {
		return
	}
	p("## Remote: push and clone against a local MinIO (S3)\n\n")
	if rr.Status != "ok" {
		p("%s: %s\n\n", rr.Status, rr.Error)
		if len(rr.Datasets) == 0 {
			return
		}
	}
	peer := func(pi PeerInfo) string {
		switch {
		case pi.Installed:
			return pi.Version
		case strings.HasPrefix(pi.Missing, "not requested"):
			return pi.Missing
		}
		return "not installed (" + pi.Missing + ")"
	}
	p("- Server: MinIO `%s` at %s, started for this run on this machine (it shares the CPUs and the disk with the tools)\n", rr.MinIO, rr.Endpoint)
	p("- aws CLI: %s, default settings\n", peer(rr.AWS))
	p("- restic: %s\n\n", peer(rr.Restic))
	p("Per dataset, in a fresh dx repository: v1 is generated and committed (not timed); `dx push` of v1 to an empty " +
		"prefix; `dx clone` of it into a new directory, checked file by file against the worktree; `aws s3 cp --recursive` " +
		"of the same v1 files up to another bucket and back down into a new directory; restic `init` and `backup` of v1 " +
		"to its S3 repository. Then v2 is applied and committed (not timed); `dx push` of it (incremental), `dx pull` of it " +
		"into the clone (checked file by file), and restic `backup` of v2. The page cache is dropped before every timed " +
		"command as above. Push and clone MB/s are 10⁶ bytes of the dataset's raw v1 bytes per wall-clock second, " +
		"for every tool, whatever it actually sends (dx sends compressed, deduplicated packs; the aws CLI the files as they are). " +
		"Sent is what dx reports as bytes sent; on remote is the size of the objects under the tool's prefix after the full push; " +
		"remote growth is how much that grew with the incremental push (restic: with the v2 backup).\n\n")
	for _, d := range rr.Datasets {
		p("### %s\n\n", d.Title)
		p("- v1: %s in %d files\n", human(d.V1Bytes), d.V1Files)
		if d.V2Bytes > 0 {
			p("- v2: %s in %d files: %s\n", human(d.V2Bytes), d.V2Files, d.V2Desc)
		}
		p("\n| tool | push s | push MB/s | sent MiB | on remote MiB | clone s | clone MB/s | received MiB | incremental s | incremental sent MiB | remote growth MiB | pull s | peak RSS MiB | status |\n")
		p("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n")
		for _, r := range d.Results {
			status := r.Status
			if r.Error != "" {
				status += ": " + r.Error
			}
			if r.SetupSeconds != nil {
				status += fmt.Sprintf("; init %.2f s", *r.SetupSeconds)
			}
			if r.CloneVerify != "" {
				status += "; clone verify " + r.CloneVerify
			}
			if r.PullVerify != "" {
				status += "; pull verify " + r.PullVerify
			}
			for _, n := range r.Notes {
				status += "; " + n
			}
			p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Tool,
				fmtF(r.PushSeconds, 2), fmtF(r.PushMBps, 1), fmtBytesMiB(r.PushBytesSent), fmtBytesMiB(r.PushRemoteBytes),
				fmtF(r.CloneSeconds, 2), fmtF(r.CloneMBps, 1), fmtBytesMiB(r.CloneBytesRead),
				fmtF(r.IncrSeconds, 2), fmtBytesMiB(r.IncrBytesSent), fmtBytesMiB(r.IncrRemoteGrowth),
				fmtF(r.PullSeconds, 2), fmtMiB(r.PeakRSSKiB, 1024), mdEscape(status))
		}
		p("\n")
		if dx := d.result("dx"); dx != nil && dx.Push != nil {
			pj := dx.Push
			p("dx push of v1: %d objects (%d chunks) in %d packs, chunk data %s + metadata %s, %s sent.",
				pj.Objects, pj.Chunks, pj.Packs, human(pj.DataBytes), human(pj.MetaBytes), human(pj.BytesSent))
			if dx.CloneRequests != nil {
				p(" dx clone: %s received in %d ranged GETs.", human(fromPtr(dx.CloneBytesRead)), *dx.CloneRequests)
			}
			if ij := dx.Incr; ij != nil {
				p(" Incremental push of v2: %d objects (%d chunks) in %d packs, chunk data %s + metadata %s, %s sent; committing v2 grew `.dx/` by %s.",
					ij.Objects, ij.Chunks, ij.Packs, human(ij.DataBytes), human(ij.MetaBytes), human(ij.BytesSent), human(fromPtr(dx.IncrLocalGrowth)))
			}
			if dx.PullBytesRead != nil {
				p(" dx pull of v2 into the clone: %s received; timed %s (each from the clone at v1, page cache dropped).", human(*dx.PullBytesRead), seconds(dx.PullRuns))
			}
			p("\n\n")
		}
	}
	rep.subscribeMarkdown(p)
	remoteGCMarkdown(p, rep.Remote.GC)
	rep.serveMarkdown(p)
}
