package main

// The ceiling: how fast dx could ingest the data at best.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ceilingSeries times `dx debug ceiling` on the v1 files: what reading,
// chunking, hashing and compressing them on all cores costs, without
// storing. With writeDir it times `dx debug ceiling --write writeDir`
// instead: the same, and writing the compressed chunks in packs as a
// commit must (a directory on the repo's file system, outside the files
// read), removed by done.
func (b *bench) ceilingSeries(ds *dataset, repo, writeDir string) (s *series, done func()) {
	args := []string{"debug", "ceiling"}
	done = func() {}
	if writeDir != "" {
		args = append(args, "--write", writeDir)
		done = func() { os.RemoveAll(writeDir) }
	}
	args = append(args, ds.paths...)
	return &series{run: func() (runResult, bool) {
		if writeDir != "" {
			if err := os.MkdirAll(writeDir, 0o755); err != nil {
				return runResult{Err: err}, false
			}
		}
		return b.timed(repo, args...)
	}}, done
}

// recordCeiling records a ceiling series into ceil.
func recordCeiling(s *series, v1 genInfo, ceil *Result) {
	r := s.res
	if s.note != "" {
		ceil.Notes = append(ceil.Notes, s.note)
	}
	ceil.CachesDropped = s.dropped
	if r.Err != nil {
		markFailed(ceil, "dx debug ceiling: %s", r.errLine())
	} else if cj, err := parseCeiling(r.Stdout + "\n" + r.Stderr); err != nil {
		markFailed(ceil, "dx debug ceiling: %v", err)
	} else {
		// Wall clock of the whole command, like every other row: it
		// too lists the files and starts a process. (Until 2026-11-26
		// this was the in-process ingest time only, which left dx's
		// walk of the worktree and its start-up against it.)
		ceil.FirstSeconds = new(r.Seconds)
		ceil.FirstMBps = new(mbps(cj.Bytes, r.Seconds))
		ceil.FirstStoredBytes = new(cj.StoredBytes)
		ceil.Notes = append(ceil.Notes, fmt.Sprintf("ingest alone %.2f s", cj.Seconds))
		ceil.PeakRSSKiB = new(r.MaxRSSKiB)
		if cj.Bytes != v1.Bytes {
			ceil.Notes = append(ceil.Notes, fmt.Sprintf("ceiling read %d bytes, data is %d", cj.Bytes, v1.Bytes))
		}
		logf("  %s: %.1f MB/s (%s in %.2fs, ingest alone %.2fs; would store %s)", ceil.Tool, *ceil.FirstMBps, human(cj.Bytes), r.Seconds, cj.Seconds, human(cj.StoredBytes))
	}
}

// ceilingJSON is the result line of `dx debug ceiling`.
type ceilingJSON struct {
	Bytes       int64   `json:"bytes"`
	Seconds     float64 `json:"seconds"`
	StoredBytes int64   `json:"stored_bytes"`
}

// parseCeiling reads the last JSON object line of dx debug ceiling's output.
func parseCeiling(out string) (ceilingJSON, error) {
	var cj ceilingJSON
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(l, "{") {
			continue
		}
		if err := json.Unmarshal([]byte(l), &cj); err != nil {
			return cj, fmt.Errorf("bad JSON %q: %v", l, err)
		}
		if cj.Seconds <= 0 || cj.Bytes <= 0 {
			return cj, fmt.Errorf("implausible result %q", l)
		}
		return cj, nil
	}
	return cj, errors.New("no JSON line in output: " + firstOutputLine(out))
}
