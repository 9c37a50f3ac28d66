package repo

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/progress"
)

// TestAssemble: random files of copied runs, bytes and store chunks, in
// any order, come out as the parts written one after the other through
// memory (the oracle); a part that cannot be had fails the whole.
func TestAssemble(t *testing.T) {
	ctx := context.Background()
	r, dir := newTestRepo(t)
	rng := rand.New(rand.NewPCG(7, 8))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	srcData := random(1 << 20)
	srcPath := filepath.Join(dir, "src")
	if err := os.WriteFile(srcPath, srcData, 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(srcPath)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	bar := progress.Nop{}.Start("", 0, false)
	for round := range 30 {
		var parts []filePart
		var want []byte
		var wantCopied int64
		for range rng.IntN(40) {
			switch rng.IntN(3) {
			case 0: // a run of the source, often following the last
				n := int64(1 + rng.IntN(3*cloneBlock))
				off := rng.Int64N(int64(len(srcData)) - n)
				if k := len(parts); k > 0 && parts[k-1].chunk == nil && parts[k-1].data == nil && rng.IntN(2) == 0 {
					off = min(parts[k-1].off+parts[k-1].n, int64(len(srcData))-n)
				}
				parts = append(parts, filePart{off: off, n: n})
				want = append(want, srcData[off:off+n]...)
				wantCopied += n
			case 1:
				b := random(rng.IntN(5000))
				parts = append(parts, filePart{data: b})
				want = append(want, b...)
			default:
				b := random(1 + rng.IntN(70000))
				id, err := r.Store.Put(ctx, dag.KindChunk, b)
				if err != nil {
					t.Fatal(err)
				}
				parts = append(parts, filePart{chunk: &dag.ChunkRef{ID: id, Len: uint32(len(b))}})
				want = append(want, b...)
			}
		}
		if err := r.Store.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(filepath.Join(dir, "out"))
		if err != nil {
			t.Fatal(err)
		}
		n, copied, err := r.assemble(ctx, f, src, parts, bar)
		f.Close()
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		got, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		if n != int64(len(want)) || copied != wantCopied || !bytes.Equal(got, want) {
			t.Fatalf("round %d: %d bytes (%d copied), want %d (%d); same bytes: %v", round, n, copied, len(want), wantCopied, bytes.Equal(got, want))
		}
	}

	// A chunk the store lacks, or a run past the source's end: an error.
	f, err := os.Create(filepath.Join(dir, "bad"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	missing := dag.ChunkRef{ID: dag.Hash(dag.KindChunk, []byte("not stored")), Len: 10}
	for _, parts := range [][]filePart{
		{{off: 0, n: 5000}, {chunk: &missing}, {off: 9000, n: 300000}},
		{{data: []byte("x")}, {off: int64(len(srcData)) - 10, n: 20}},
	} {
		if _, _, err := r.assemble(ctx, f, src, parts, bar); err == nil {
			t.Errorf("assemble of %d parts, one not to be had: no error", len(parts))
		}
	}
	// A failed copy is the error, not the cancellation of the reads it
	// stopped.
	stored, err := r.Store.Put(ctx, dag.KindChunk, random(100000))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Store.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	parts := []filePart{{off: int64(len(srcData)) - 10, n: 20}}
	for range 50 {
		parts = append(parts, filePart{chunk: &dag.ChunkRef{ID: stored, Len: 100000}})
	}
	if _, _, err := r.assemble(ctx, f, src, parts, bar); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a copy past the source's end: %v, want %v", err, io.ErrUnexpectedEOF)
	}
}
