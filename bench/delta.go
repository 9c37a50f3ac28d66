package main

// A model's delta: the rows its data changed since it was trained.

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// delta registers a model trained on the table's first version (merge-b's
// parent) and times `dx delta` up to merge-b, whose ~0.01% update is what
// a retraining would read.
func (b *bench) delta(repo string) *DeltaResult {
	dl := &DeltaResult{}
	art := filepath.Join(filepath.Dir(repo), "bench-model.bin")
	if err := os.WriteFile(art, []byte("a model\n"), 0o644); err != nil {
		dl.Error = err.Error()
		return dl
	}
	defer os.Remove(art)
	if r := b.rn.run(repo, nil, b.cfg.dx, "model", "register", "bench-model", "--artifact", art, "--data", "merge-b~1"); r.Err != nil {
		dl.Error = "dx model register: " + r.errLine()
		return dl
	}
	r, _ := b.timed(repo, "delta", "--format", "jsonl", "bench-model", "merge-b")
	if r.Err != nil {
		dl.Error = "dx delta: " + r.errLine()
		return dl
	}
	dl.Seconds = r.Seconds
	r = b.rn.run(repo, nil, b.cfg.dx, "delta", "--stat", "--json", "bench-model", "merge-b")
	if r.Err != nil {
		dl.Error = "dx delta --stat: " + r.errLine()
		return dl
	}
	var files []rowDiffFile
	if err := json.Unmarshal([]byte(r.Stdout), &files); err != nil {
		dl.Error = "dx delta --json: " + err.Error()
		return dl
	}
	for _, f := range files {
		if f.Table {
			dl.Changed += f.Changed
			dl.BytesTotal += f.Stats.BytesTotal
			dl.BytesRead += f.Stats.BytesRead
			dl.BytesParsed += f.Stats.BytesParsed
		}
	}
	logf("  dx delta of the model's data up to merge-b: %.2fs, %d rows changed, parsed %s, read %s of %s", dl.Seconds, dl.Changed, human(dl.BytesParsed), human(dl.BytesRead), human(dl.BytesTotal))
	return dl
}
