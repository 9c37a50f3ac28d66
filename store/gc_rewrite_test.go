package store

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/dxdata/dx/dag"
)

// TestGCKeepsARewriteNamedAsALeftover: gc rewrites a partly live pack
// into a new one, named by its content. A gc killed after writing that
// pack and before recording it leaves its file without a record; the
// next gc writes the same pack again, and must keep it rather than remove
// it as the leftover it was when that gc began.
func TestGCKeepsARewriteNamedAsALeftover(t *testing.T) {
	ctx := context.Background()
	s, dir := newStore(t)
	keep, junk := randData(11, 20<<10), randData(12, 600<<10)
	res, err := s.Ingest(ctx, []IngestFile{memFile("keep", keep), memFile("junk", junk)}, IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	commitOf(t, s, "refs/heads/main", "keep", res[0], dag.ZeroID)
	junkCommit := commitOf(t, s, "refs/heads/junk", "junk", res[1], dag.ZeroID)
	if err := s.Transaction(ctx, []RefUpdate{{Name: "refs/heads/junk", Old: junkCommit}}, nil, "drop"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := packNames(t, dir)
	interrupted := filepath.Join(t.TempDir(), ".dx")
	if err := os.CopyFS(interrupted, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}

	// The gc that the interrupted one would have been: its new packs.
	s, err = Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.GC(ctx, GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.PacksRewritten == 0 {
		t.Fatalf("no pack rewritten: %+v", rep)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var rewritten []string
	for n := range packNames(t, dir) {
		if !before[n] {
			rewritten = append(rewritten, n)
			b, err := os.ReadFile(filepath.Join(dir, packsDir, n))
			if err == nil {
				err = os.WriteFile(filepath.Join(interrupted, packsDir, n), b, 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(rewritten) == 0 {
		t.Fatal("gc wrote no pack")
	}

	s, err = Open(ctx, interrupted, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.GC(ctx, GCOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, n := range rewritten {
		if _, err := os.Stat(filepath.Join(interrupted, packsDir, n)); err != nil {
			t.Fatalf("gc removed the pack it wrote: %v", err)
		}
	}
	if f, err := s.Fsck(ctx, FsckOptions{Full: true}); err != nil || !f.OK() {
		t.Fatalf("fsck: %v %+v", err, f)
	}
	if !bytes.Equal(readFile(t, s, res[0].ID), keep) {
		t.Fatal("the kept file does not read back")
	}
}

// packNames are the file names under the store's packs directory.
func packNames(t *testing.T, dir string) map[string]bool {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, packsDir))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, e := range ents {
		out[e.Name()] = true
	}
	return out
}
