package main

// The replication part of the regions benchmark: region B is a second
// MinIO; after an untimed first copy of the table's remote, a
// 0.01%-of-rows change is pushed to A and copied to B by dx replicate,
// by rclone sync (A to B, streamed through this machine) and by the aws
// CLI (which reaches one endpoint per command: aws s3 sync A to a local
// mirror, then the mirror to B). Bytes are what B's bucket grew by.

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
)

// replicateRounds is how many changes each tool copies (the median is
// reported).
const replicateRounds = 3

// rclonePeer is rclone, a peer of the regions benchmark only.
var rclonePeer = &peer{name: "rclone", bins: []string{"rclone"}, version: []string{"rclone", "version"}}

// ReplicateBench is dx replicate beside rclone and the aws CLI.
type ReplicateBench struct {
	NewPackBytes int64                  `json:"new_pack_bytes"` // what the push added under packs/ on A
	Results      []*ReplicateToolResult `json:"results"`
	Error        string                 `json:"error,omitempty"`
}

// ReplicateToolResult is one tool's copy of the change.
type ReplicateToolResult struct {
	Tool     string    `json:"tool"`
	Version  string    `json:"version,omitempty"`
	Status   string    `json:"status"`
	Seconds  *float64  `json:"seconds"` // the median copy of one change
	Samples  []float64 `json:"samples_seconds"`
	BGrowth  *int64    `json:"b_growth_bytes"` // what the tool's bucket on B grew by, over every change
	Reported *int64    `json:"reported_bytes"` // dx: pack and index bytes it copied
	Error    string    `json:"error,omitempty"`
}

// replicateBench copies the table's remote (dxBucket/table/ on srvA) to a
// second server, then times each tool on the copy of one change.
func (b *bench) replicateBench(ctx context.Context, srvA *minioServer, rn *runner, src, table, dir string, rng *rand.Rand) *ReplicateBench {
	rb := &ReplicateBench{}
	bin, err := findMinio(b.cfg.minio)
	if err != nil {
		rb.Error = err.Error()
		return rb
	}
	srvB, err := startMinio(ctx, bin, filepath.Join(dir, "minio-b"))
	if err != nil {
		rb.Error = "starting region B: " + err.Error()
		return rb
	}
	defer srvB.stop()
	const prefix = "table"
	buckets := map[string]string{"dx": "dx-region-b", "rclone": "rclone-region-b", "aws": "aws-region-b"}
	for _, bk := range buckets {
		if err := srvB.makeBucket(ctx, bk); err != nil {
			rb.Error = err.Error()
			return rb
		}
	}
	mirror := filepath.Join(dir, "aws-mirror")
	rcloneEnv := []string{
		"RCLONE_CONFIG_A_TYPE=s3", "RCLONE_CONFIG_A_PROVIDER=Minio", "RCLONE_CONFIG_A_ENDPOINT=" + srvA.endpoint(),
		"RCLONE_CONFIG_A_ACCESS_KEY_ID=" + srvA.AccessKey, "RCLONE_CONFIG_A_SECRET_ACCESS_KEY=" + srvA.SecretKey,
		"RCLONE_CONFIG_B_TYPE=s3", "RCLONE_CONFIG_B_PROVIDER=Minio", "RCLONE_CONFIG_B_ENDPOINT=" + srvB.endpoint(),
		"RCLONE_CONFIG_B_ACCESS_KEY_ID=" + srvB.AccessKey, "RCLONE_CONFIG_B_SECRET_ACCESS_KEY=" + srvB.SecretKey,
		"RCLONE_CONFIG=" + filepath.Join(dir, "no-rclone.conf"),
	}
	tools := []struct {
		name string
		peer *peer
		copy func() (runResult, int64) // one sync, and the bytes the tool says it copied (-1: none)
	}{
		{"dx", nil, func() (runResult, int64) {
			r := rn.run(dir, nil, b.cfg.dx, "replicate", "--json", "s3://"+dxBucket+"/"+prefix, "s3://"+buckets["dx"]+"/"+prefix,
				"--src-endpoint", srvA.endpoint(), "--dst-endpoint", srvB.endpoint(), "--path-style")
			var j struct {
				BytesCopied int64 `json:"bytes_copied"`
			}
			if r.Err == nil && json.Unmarshal([]byte(r.Stdout), &j) != nil {
				r.Err = fmt.Errorf("dx replicate --json: %s", firstOutputLine(r.Stdout))
			}
			return r, j.BytesCopied
		}},
		{"rclone", rclonePeer, func() (runResult, int64) {
			return rn.run(dir, rcloneEnv, "rclone", "sync", "a:"+dxBucket+"/"+prefix, "b:"+buckets["rclone"]+"/"+prefix), -1
		}},
		{"aws", awsPeer, func() (runResult, int64) {
			down := rn.run(dir, nil, "aws", "--endpoint-url", srvA.endpoint(), "s3", "sync", "--only-show-errors", "s3://"+dxBucket+"/"+prefix, mirror)
			if down.Err != nil {
				return down, -1
			}
			up := rn.run(dir, nil, "aws", "--endpoint-url", srvB.endpoint(), "s3", "sync", "--only-show-errors", mirror, "s3://"+buckets["aws"]+"/"+prefix)
			up.Seconds += down.Seconds
			return up, -1
		}},
	}
	for _, t := range tools {
		tr := &ReplicateToolResult{Tool: t.name, Status: "ok"}
		if t.peer != nil {
			pi := detectPeer(t.peer)
			tr.Version = pi.Version
			if !pi.Installed {
				tr.Status = "not installed"
			}
		} else {
			tr.Version = b.rep.DXVersion
		}
		rb.Results = append(rb.Results, tr)
	}
	// The first copy of the whole remote: not timed.
	for i, t := range tools {
		if rb.Results[i].Status != "ok" {
			continue
		}
		logf("  %s: first copy of the table's remote to region B ...", t.name)
		if r, _ := t.copy(); r.Err != nil {
			rb.Results[i].Status, rb.Results[i].Error = "failed", "first copy: "+r.errLine()
		}
	}
	// Three changes, each pushed to A and copied by every tool: the
	// median time of each, and what B grew by over the three.
	samples := make([][]float64, len(tools))
	growth := make([]int64, len(tools))
	reported := make([]int64, len(tools))
	for round := 0; round < replicateRounds && ctx.Err() == nil; round++ {
		packsBefore, _, err := srvA.size(ctx, dxBucket, prefix+"/packs/")
		if err == nil {
			err = editRows(filepath.Join(src, table), max(1, int(fileSize(filepath.Join(src, table))/110/10000)), rng)
		}
		if err == nil {
			if r := rn.run(src, nil, b.cfg.dx, "-q", "commit", "-m", fmt.Sprintf("regions: replicated change %d", round)); r.Err != nil {
				err = fmt.Errorf("commit: %s", r.errLine())
			} else if r := rn.run(src, nil, b.cfg.dx, "-q", "push"); r.Err != nil {
				err = fmt.Errorf("push: %s", r.errLine())
			}
		}
		packsAfter, _, serr := srvA.size(ctx, dxBucket, prefix+"/packs/")
		if err == nil {
			err = serr
		}
		if err != nil {
			rb.Error = err.Error()
			return rb
		}
		rb.NewPackBytes += packsAfter - packsBefore
		for i, t := range tools {
			tr := rb.Results[i]
			if tr.Status != "ok" || ctx.Err() != nil {
				continue
			}
			before, _, _ := srvB.size(ctx, buckets[t.name], prefix+"/")
			r, rep := t.copy()
			if r.Err != nil {
				tr.Status, tr.Error = "failed", r.errLine()
				continue
			}
			after, _, _ := srvB.size(ctx, buckets[t.name], prefix+"/")
			samples[i] = append(samples[i], r.Seconds)
			growth[i] += after - before
			reported[i] += rep
			logf("  %s: change %d copied in %.2fs, region B grew %s (the new packs: %s)", t.name, round+1, r.Seconds, human(after-before), human(packsAfter-packsBefore))
		}
	}
	for i, tr := range rb.Results {
		if tr.Status != "ok" || len(samples[i]) == 0 {
			continue
		}
		tr.Samples = samples[i]
		tr.Seconds, tr.BGrowth = new(quantile(samples[i], 0.5)), new(growth[i])
		if reported[i] >= 0 && tools[i].peer == nil {
			tr.Reported = new(reported[i])
		}
	}
	return rb
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
