package store

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/dxdata/dx/dag"
)

// TestFreshIndexAnswersFromMemory: a store whose index held no object
// answers Has from memory (no index lookup) for everything this process
// stores, still stores each chunk once when copies arrive after the first
// was indexed (small packs, finished while ingest goes on), and agrees
// with the index after a reopen and after gc deletes objects.
func TestFreshIndexAnswersFromMemory(t *testing.T) {
	ctx := context.Background()
	s, dir := newStoreWith(t, Options{PackSize: 1 << 16})
	// 120 files of 16 distinct contents (640 KiB that do not compress, in
	// packs of 64 KiB): most copies come after their first one's pack was
	// indexed.
	contents := make([][]byte, 16)
	for i := range contents {
		contents[i] = randData(uint64(100+i), 40<<10+i)
	}
	var files []IngestFile
	for i := range 120 {
		files = append(files, memFile(fmt.Sprintf("f%03d", i), contents[i%len(contents)]))
	}
	res, err := s.Ingest(ctx, files, IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	written := st.ChunksWritten.Load()
	distinct := map[dag.ID]bool{}
	for _, r := range res {
		distinct[r.ID] = true
	}
	if len(distinct) != len(contents) {
		t.Fatalf("%d distinct files, want %d", len(distinct), len(contents))
	}
	// Again, everything indexed now: nothing new is written.
	if _, err := s.Ingest(ctx, files, IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := st.ChunksWritten.Load(); got != written {
		t.Fatalf("a second ingest of the same files wrote %d more chunks", got-written)
	}
	if st.PacksWritten.Load() < 4 {
		t.Fatalf("only %d packs: the test needs packs indexed while ingest goes on", st.PacksWritten.Load())
	}
	for id := range distinct {
		if ok, err := s.Has(ctx, id); err != nil || !ok {
			t.Fatalf("stored file %s: has %v, %v", id.Short(), ok, err)
		}
	}
	if ok, _ := s.Has(ctx, dag.Hash(dag.KindChunk, []byte("never stored"))); ok {
		t.Fatal("an object never stored is found")
	}
	if n := st.IndexLookups.Load(); n != 0 {
		t.Fatalf("a fresh store looked up %d objects in its index", n)
	}

	// Reopened, the index holds objects: Has looks there, and agrees.
	s = reopen(t, s, dir)
	for id := range distinct {
		if ok, err := s.Has(ctx, id); err != nil || !ok {
			t.Fatalf("after reopen, stored file %s: has %v, %v", id.Short(), ok, err)
		}
	}
	if s.Stats().IndexLookups.Load() == 0 {
		t.Fatal("a store opened on a full index answered Has without it")
	}
}

// TestFreshIndexEndsAtGC: gc deleting objects from a fresh index makes Has
// look in the index again, so a deleted object is not found.
func TestFreshIndexEndsAtGC(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	commitFile(t, s, "refs/heads/main", "keep", randData(6, 100<<10), dag.ZeroID)
	dead, err := s.Put(ctx, dag.KindChunk, randData(7, 50<<10))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Has(ctx, dead); !ok {
		t.Fatal("stored chunk not found")
	}
	if n := s.Stats().IndexLookups.Load(); n != 0 {
		t.Fatalf("a fresh store looked up %d objects in its index", n)
	}
	if _, err := s.GC(ctx, GCOptions{}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Has(ctx, dead); ok {
		t.Fatal("a chunk gc deleted is still found")
	}
	if s.Stats().IndexLookups.Load() == 0 {
		t.Fatal("after gc, Has did not look in the index")
	}
}

// TestClaimsStoreEachObjectOnce: writers putting overlapping objects at
// once, in small packs indexed while they go on, with the index ceasing
// to be fresh half-way (its markers dropped), store each object exactly
// once, and every one reads back.
func TestClaimsStoreEachObjectOnce(t *testing.T) {
	ctx := context.Background()
	s, dir := newStoreWith(t, Options{PackSize: 1 << 16})
	const distinct, writers = 400, 8
	objs := make([][]byte, distinct)
	for i := range objs {
		objs[i] = randData(uint64(1000+i), 3<<10+i)
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range distinct {
				i := (k*7 + w*53) % distinct // each writer in its own order
				if w == 0 && k == distinct/2 {
					s.endFresh()
				}
				if _, err := s.Put(ctx, dag.KindChunk, objs[i]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.Stats().ChunksWritten.Load(); got != distinct {
		t.Fatalf("%d chunks written for %d distinct objects", got, distinct)
	}
	s = reopen(t, s, dir)
	for i, b := range objs {
		got, err := s.Get(ctx, dag.KindChunk, dag.Hash(dag.KindChunk, b))
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("object %d: %v", i, err)
		}
	}
	if rep, err := s.Fsck(ctx, FsckOptions{}); err != nil || !rep.OK() || rep.Objects != distinct {
		t.Fatalf("fsck: %v %+v", err, rep)
	}
}
