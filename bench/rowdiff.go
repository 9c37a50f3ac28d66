package main

// The row diff between the two versions of a table.

import (
	"encoding/json"
	"fmt"
	"strings"
)

// rowDiffFile is one file of `dx diff --rows --stat --json` (and of
// `dx delta --stat --json`).
type rowDiffFile struct {
	Table   bool  `json:"table"`
	Added   int64 `json:"added"`
	Removed int64 `json:"removed"`
	Changed int64 `json:"changed"`
	Stats   struct {
		BytesTotal  int64 `json:"bytes_total"`
		BytesRead   int64 `json:"bytes_read"`
		BytesParsed int64 `json:"bytes_parsed"`
		RowsDecoded int64 `json:"rows_decoded"`
	} `json:"stats"`
}

// rowDiff times `dx diff --rows` between the two commits and checks its
// counts against what the generator did.
func (b *bench) rowDiff(repo string, v2 genInfo) *RowDiffResult {
	// Timed: every changed row written out (and discarded).
	r, _ := b.timed(repo, "diff", "--rows", "--format", "jsonl", "HEAD~1", "HEAD")
	if r.Err != nil {
		logf("  dx row diff FAILED: %s", r.errLine())
		return nil
	}
	seconds := r.Seconds
	// Counts and bytes read, from the summary.
	r = b.rn.run(repo, nil, b.cfg.dx, "--stats", "diff", "--rows", "--stat", "--json", "HEAD~1", "HEAD")
	if r.Err != nil {
		logf("  dx row diff --stat FAILED: %s", r.errLine())
		return nil
	}
	var files []rowDiffFile
	if err := json.Unmarshal([]byte(r.Stdout), &files); err != nil {
		logf("  dx row diff: bad JSON: %v", err)
		return nil
	}
	rd := &RowDiffResult{Seconds: seconds, Expected: fmt.Sprintf("+%d −%d ~%d", v2.RowsAdded, v2.RowsRemoved, v2.RowsChanged)}
	for _, f := range files {
		if !f.Table {
			continue
		}
		rd.Added += f.Added
		rd.Removed += f.Removed
		rd.Changed += f.Changed
		rd.BytesTotal += f.Stats.BytesTotal
		rd.BytesRead += f.Stats.BytesRead
		rd.BytesParsed += f.Stats.BytesParsed
		rd.RowsDecoded += f.Stats.RowsDecoded
	}
	// What it read from the store: --stats' counters, the last line of
	// stderr.
	var st struct {
		Stored int64 `json:"stored_bytes_read"`
	}
	lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &st); err != nil {
		logf("  dx row diff --stats: bad JSON: %v", err)
		return nil
	}
	rd.StoredRead = st.Stored
	rd.Correct = rd.Added == v2.RowsAdded && rd.Removed == v2.RowsRemoved && rd.Changed == v2.RowsChanged
	logf("  dx row diff: %.2fs, read %s of %s (%s from the store), parsed %s (%d rows decoded); +%d −%d ~%d (expected %s)", rd.Seconds,
		human(rd.BytesRead), human(rd.BytesTotal), human(rd.StoredRead), human(rd.BytesParsed), rd.RowsDecoded, rd.Added, rd.Removed, rd.Changed, rd.Expected)
	return rd
}
