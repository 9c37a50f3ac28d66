package store

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dxdata/dx/dag"
)

// TestLocatedReadsAfterClose: a file's chunks, located while the store is
// open, read back after it is closed in runs that hold several, equal the
// file; an object not stored is ErrNotFound.
func TestLocatedReadsAfterClose(t *testing.T) {
	ctx := context.Background()
	// One ingest worker: the chunks are stored in the file's order.
	dir := filepath.Join(t.TempDir(), ".dx")
	if err := Init(dir); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, dir, Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	data := append(randData(1, 1<<20), strings.Repeat("a compressible line of text\n", 40000)...)
	commit := commitFile(t, s, "refs/heads/main", "f", data, dag.ZeroID)
	file := entryAt(t, s, commit, "f").ID
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	r := openAccess(t, dir, ReadOnly)
	var ids []dag.ID
	if err := dag.WalkFile(ctx, r, file, func(c dag.ChunkRef) error {
		ids = append(ids, c.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	l := r.NewLocated(dag.KindChunk, ids)
	defer l.Close()
	half := len(ids) / 2
	if err := l.Locate(ctx, 0, half); err != nil {
		t.Fatal(err)
	}
	if err := l.Locate(ctx, half, len(ids)); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// Each object from its run, a run read when none holds it.
	var got []byte
	var runs []Run
	for k := 0; k < l.Len(); k++ {
		var run *Run
		for x := range runs {
			if runs[x].Has(k) {
				run = &runs[x]
			}
		}
		if run == nil {
			r, err := l.ReadRun(k, l.Len(), 1<<20, nil)
			if err != nil {
				t.Fatalf("run from %d: %v", k, err)
			}
			runs = append(runs, r)
			run = &runs[len(runs)-1]
		}
		var err error
		if got, err = run.Append(k, got); err != nil {
			t.Fatalf("object %d: %v", k, err)
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, want the file's %d", len(got), len(data))
	}
	// Runs end at 1 MiB and where packs do, so the count varies a little
	// with how the pack writer split the chunks; one run a chunk is what
	// must not happen.
	if len(runs)*3 > len(ids)*2 {
		t.Errorf("%d chunks read in %d runs: neighbours not read together", len(ids), len(runs))
	}
	s2 := openAccess(t, dir, ReadOnly)
	missing := s2.NewLocated(dag.KindChunk, []dag.ID{dag.Hash(dag.KindChunk, []byte("not stored"))})
	defer missing.Close()
	if err := missing.Locate(ctx, 0, 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("locating an object not stored: %v, want ErrNotFound", err)
	}
}
