package store

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dxdata/dx/dag"
)

// TestEachChunk: the chunks of a file come in order, verified, the same
// bytes as the file, with fewer pack reads than chunks; an error of fn
// ends it; a chunk the store lacks is an error.
func TestEachChunk(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	data := append(randData(3, 3<<20), strings.Repeat("a compressible line of text\n", 200000)...)
	commit := commitFile(t, s, "refs/heads/main", "f", data, dag.ZeroID)
	file := entryAt(t, s, commit, "f").ID
	var refs []dag.ChunkRef
	if err := dag.WalkFile(ctx, s, file, func(c dag.ChunkRef) error {
		refs = append(refs, c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(refs) < 50 {
		t.Fatalf("%d chunks: want many", len(refs))
	}
	for _, workers := range []int{1, 3} {
		var got []byte
		calls := 0
		if err := s.EachChunk(ctx, refs, workers, func(b []byte) error {
			got = append(got, b...)
			calls++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) || calls != len(refs) {
			t.Fatalf("%d workers: %d bytes in %d calls, want %d in %d", workers, len(got), calls, len(data), len(refs))
		}
	}
	stop := errors.New("stop")
	calls := 0
	if err := s.EachChunk(ctx, refs, 2, func([]byte) error {
		calls++
		if calls == 7 {
			return stop
		}
		return nil
	}); !errors.Is(err, stop) || calls != 7 {
		t.Fatalf("fn's error: %v after %d calls", err, calls)
	}
	bad := append([]dag.ChunkRef(nil), refs...)
	bad[len(bad)/2].ID = dag.Hash(dag.KindChunk, []byte("not stored"))
	if err := s.EachChunk(ctx, bad, 2, func([]byte) error { return nil }); err == nil {
		t.Fatal("a chunk the store lacks read without an error")
	}
}

// TestDecodeBatchOneBuffer: a batch's chunks are decoded into one buffer,
// allocated once at the batch's full size (or the batch bound, so that a
// recycled buffer fits any later batch) and not regrown chunk by chunk,
// which copied the chunks before each one.
func TestDecodeBatchOneBuffer(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	data := []byte(strings.Repeat("a compressible line of text, number 0123456789\n", 100000))
	commit := commitFile(t, s, "refs/heads/main", "f", data, dag.ZeroID)
	file := entryAt(t, s, commit, "f").ID
	var refs []dag.ChunkRef
	var ids []dag.ID
	if err := dag.WalkFile(ctx, s, file, func(c dag.ChunkRef) error {
		refs, ids = append(refs, c), append(ids, c.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	l := s.NewLocated(dag.KindChunk, ids)
	defer l.Close()
	if err := l.Locate(ctx, 0, len(refs)); err != nil {
		t.Fatal(err)
	}
	// Two batches as EachChunk cuts them, the second no smaller.
	var batches []*eachBatch
	for i := 0; i < len(refs) && len(batches) < 2; {
		b := &eachBatch{from: i}
		for n := 0; i < len(refs) && (i == b.from || n+int(refs[i].Len) <= eachBatchBytes); i++ {
			n += int(refs[i].Len)
		}
		b.to = i
		batches = append(batches, b)
	}
	if len(batches) < 2 || batches[0].to-batches[0].from < 4 {
		t.Fatalf("%d chunks: want two batches of several", len(refs))
	}
	first, second := batches[0], batches[1]
	run, err := s.decodeBatch(l, refs, first, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := 0
	for _, r := range refs[:first.from] {
		at += int(r.Len)
	}
	if !bytes.Equal(first.out, data[at:at+len(first.out)]) || len(first.ends) != first.to-first.from {
		t.Fatal("the first batch decoded wrong")
	}
	if cap(first.out) < eachBatchBytes {
		t.Fatalf("a new batch buffer holds %d bytes, under the batch bound %d", cap(first.out), eachBatchBytes)
	}
	// The second batch reuses the first's buffer, as EachChunk recycles
	// it: no buffer of its own, whatever its size.
	buf := first.out[:0]
	second.out = buf
	allocs := testing.AllocsPerRun(5, func() {
		second.out = buf
		if run, err = s.decodeBatch(l, refs, second, run); err != nil {
			t.Fatal(err)
		}
	})
	if &second.out[:1][0] != &buf[:1][0] {
		t.Fatal("the second batch outgrew a recycled buffer")
	}
	if allocs > 3 {
		t.Fatalf("decoding a batch of %d chunks into a recycled buffer allocated %.0f times", second.to-second.from, allocs)
	}
}
