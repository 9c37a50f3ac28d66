package parquet

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/chunker"
	"github.com/dxdata/dx/store/chunker/parquetcut"
)

// memSource is a file cut into chunks as dx stores it (at its pages when
// it is Parquet); it counts the chunk reads.
type memSource struct {
	chunks [][]byte
	refs   []dag.ChunkRef
	reads  int
}

func (s *memSource) Chunks() []dag.ChunkRef { return s.refs }

func (s *memSource) AppendChunk(_ context.Context, i int, dst []byte) ([]byte, error) {
	s.reads++
	return append(dst, s.chunks[i]...), nil
}

// source cuts data the way a commit does.
func source(t testing.TB, data []byte) *memSource {
	t.Helper()
	s := &memSource{}
	if len(data) == 0 {
		return s
	}
	o := chunker.DefaultOptions()
	ck, err := chunker.New(nil, o)
	if err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(data)
	ck.ResetSniff(r, "t.parquet")
	next := ck.Next
	if spans, err := parquetcut.Plan(r, int64(len(data)), o.ForMode(chunker.Binary)); err == nil {
		next = parquetcut.NewCutter(r, spans, ck).Next
	}
	for {
		b, err := next(nil)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		s.chunks = append(s.chunks, b)
		s.refs = append(s.refs, dag.ChunkRef{ID: dag.Hash(dag.KindChunk, b), Len: uint32(len(b))})
	}
	return s
}
