package main

// The targets of the remote benchmark.

import "strings"

// Remote targets.
const (
	targetRemotePush  = "remote: dx push ≥ aws CLI upload MB/s"
	targetRemoteClone = "remote: dx clone ≥ aws CLI download MB/s"
	targetRemoteIncr  = "remote: incremental push faster than restic's"
)

// evaluateRemote adds the targets of the remote benchmark.
func (rep *Report) evaluateRemote(add func(target, ds, result, format string, args ...any)) {
	rr := rep.Remote
	if rr == nil {
		return
	}
	if len(rr.Datasets) == 0 && rr.Status != "ok" {
		res := "SKIPPED"
		if rr.Status == "failed" {
			res = "FAIL"
		}
		for _, t := range []string{targetRemotePush, targetRemoteClone, targetRemoteIncr} {
			add(t, "—", res, "%s", rr.Error)
		}
		return
	}
	peerMissing := func(r *RemoteToolResult, what string) string {
		switch {
		case r == nil:
			return what + " not measured"
		case r.Status == "not installed" || r.Status == "not requested":
			return what + " " + r.Status
		case r.Error != "":
			return what + " failed: " + r.Error
		}
		return what + " not measured"
	}
	for _, d := range rr.Datasets {
		dx, aws, restic := d.result("dx"), d.result("aws"), d.result("restic")
		dxFailed := "not measured"
		if dx.Error != "" {
			dxFailed = "dx failed: " + dx.Error
		}
		switch {
		case dx.PushMBps == nil:
			add(targetRemotePush, d.Dataset, "FAIL", "%s", dxFailed)
		case aws == nil || aws.PushMBps == nil:
			add(targetRemotePush, d.Dataset, "N/A", "dx %.1f MB/s; %s", *dx.PushMBps, peerMissing(aws, "aws CLI"))
		default:
			add(targetRemotePush, d.Dataset, passFail(*dx.PushMBps >= *aws.PushMBps),
				"dx %.1f MB/s (%.2f s, sent %s) vs aws s3 cp %.1f MB/s (%.2f s, %s); MB/s of the %s of raw data",
				*dx.PushMBps, *dx.PushSeconds, human(fromPtr(dx.PushBytesSent)), *aws.PushMBps, *aws.PushSeconds,
				human(fromPtr(aws.PushRemoteBytes)), human(d.V1Bytes))
		}
		switch {
		case dx.CloneMBps == nil:
			add(targetRemoteClone, d.Dataset, "FAIL", "%s", dxFailed)
		case aws == nil || aws.CloneMBps == nil:
			add(targetRemoteClone, d.Dataset, "N/A", "dx %.1f MB/s; %s", *dx.CloneMBps, peerMissing(aws, "aws CLI"))
		default:
			add(targetRemoteClone, d.Dataset, passFail(*dx.CloneMBps >= *aws.CloneMBps),
				"dx %.1f MB/s (%.2f s, received %s) vs aws s3 cp %.1f MB/s (%.2f s); MB/s of the %s of raw data",
				*dx.CloneMBps, *dx.CloneSeconds, human(fromPtr(dx.CloneBytesRead)), *aws.CloneMBps, *aws.CloneSeconds, human(d.V1Bytes))
		}
		switch {
		case dx.IncrSeconds == nil:
			add(targetRemoteIncr, d.Dataset, "FAIL", "%s", dxFailed)
		case restic == nil || restic.IncrSeconds == nil:
			add(targetRemoteIncr, d.Dataset, "N/A", "dx %.2f s; %s", *dx.IncrSeconds, peerMissing(restic, "restic"))
		default:
			add(targetRemoteIncr, d.Dataset, passFail(*dx.IncrSeconds < *restic.IncrSeconds),
				"dx %.2f s, sent %s (committing v2 grew .dx by %s) vs restic backup %.2f s (repository grew %s)",
				*dx.IncrSeconds, human(fromPtr(dx.IncrBytesSent)), human(fromPtr(dx.IncrLocalGrowth)),
				*restic.IncrSeconds, human(fromPtr(restic.IncrRemoteGrowth)))
		}
		if td := rep.dataset(d.Dataset); td != nil && td.result("dx") != nil {
			evaluatePullCp(add, d.Dataset, dx, td.result("dx").Switch)
		}
		// Correctness, which gates the numbers above.
		for _, c := range []struct{ t, v string }{
			{"remote: clone restores v1 byte-for-byte", dx.CloneVerify},
			{"remote: pull brings the clone to v2 byte-for-byte", dx.PullVerify},
		} {
			switch {
			case c.v == "OK":
				add(c.t, d.Dataset, "PASS", "sha256 of every file matches the pushed worktree")
			case c.v != "":
				add(c.t, d.Dataset, "FAIL", "%s", strings.TrimPrefix(c.v, "FAIL: "))
			default:
				add(c.t, d.Dataset, "FAIL", "%s", dxFailed)
			}
		}
	}
	rep.evaluateSubscribe(add)
	evaluateRemoteGC(add, rr.GC)
	rep.evaluateServe(add)
}
