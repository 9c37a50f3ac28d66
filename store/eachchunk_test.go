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
