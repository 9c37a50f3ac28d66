package parquet

import (
	"context"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/storetest"
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
	s.chunks, s.refs = storetest.Chunks(t, "t.parquet", data)
	return s
}
