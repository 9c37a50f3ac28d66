package e2e

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// amountsTable is a CSV table keyed by id, of rows rows: id, name,
// amount, different for each seed.
func amountsTable(seed, rows int) string {
	var b strings.Builder
	b.WriteString("id,name,amount\n")
	for i := range rows {
		fmt.Fprintf(&b, "%d,name %d,%d.%02d\n", seed*1_000_000+i, (i*seed)%977, i*seed%9999, i%100)
	}
	return b.String()
}

// TestGCDropsDerivedData: the profiles of a table version that only a
// deleted branch held go with its data at dx gc --prune (a dry run says
// so first), and the disk space of the files they filled; the profiles
// of the version main holds stay, reused by the next dx profile.
func TestGCDropsDerivedData(t *testing.T) {
	r := newRepo(t)
	// Commits a table of rows and profiles it.
	commitProfiled := func(seed, rows int) {
		r.write("t.csv", amountsTable(seed, rows))
		r.ok("commit", "-m", fmt.Sprintf("table %d", seed))
		if p := r.profile("HEAD:t.csv"); p.Computed == 0 {
			t.Fatalf("table %d not profiled", seed)
		}
	}
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	commitProfiled(1, 40_000)
	r.ok("branch", "tmp")
	r.ok("checkout", "tmp")
	commitProfiled(2, 200_000)
	r.ok("checkout", "main")
	r.ok("branch", "-D", "tmp")
	derivedSize := func() int64 {
		var n int64
		_ = filepath.WalkDir(r.path(".dx/derived"), func(_ string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if fi, err := d.Info(); err == nil {
					n += fi.Size()
				}
			}
			return nil
		})
		return n
	}
	gc := func(args ...string) (dropped int, freed int64) {
		var g struct {
			Dropped int   `json:"derived_entries_dropped"`
			Freed   int64 `json:"derived_bytes_freed"`
		}
		if out := r.ok(append([]string{"gc", "--json"}, args...)...); json.Unmarshal([]byte(out), &g) != nil {
			t.Fatalf("gc --json: %s", out)
		}
		return g.Dropped, g.Freed
	}
	before := derivedSize()
	dryDropped, dryFreed := gc()
	if derivedSize() != before {
		t.Fatal("a dry run changed the derived files")
	}
	dropped, freed := gc("--prune")
	after := derivedSize()
	if dropped == 0 || dropped != dryDropped || freed != dryFreed {
		t.Fatalf("prune dropped %d entries, freed %d; the dry run said %d, %d", dropped, freed, dryDropped, dryFreed)
	}
	// The dropped version's profiles were most of the bytes.
	if freed < before/2 || before-after != freed {
		t.Fatalf("derived files %d -> %d bytes; gc said it freed %d", before, after, freed)
	}
	if d, f := gc("--prune"); d != 0 || f != 0 {
		t.Fatalf("a second prune dropped %d entries, freed %d", d, f)
	}
	if p := r.profile("HEAD:t.csv"); p.Computed != 0 || p.Reused != p.Chunks {
		t.Fatalf("main's profile after gc: %d of %d chunks computed again", p.Computed, p.Chunks)
	}
	r.ok("fsck", "--full")
}
