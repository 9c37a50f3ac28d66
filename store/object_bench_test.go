package store

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/dxdata/dx/dag"
)

// benchStore opens a fresh store for a benchmark.
func benchStore(b *testing.B) *Store {
	b.Helper()
	dir := filepath.Join(b.TempDir(), ".dx")
	if err := Init(dir); err != nil {
		b.Fatal(err)
	}
	s, err := Open(context.Background(), dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkPutMeta puts small new metadata objects (a commit's File nodes).
func BenchmarkPutMeta(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	obj := make([]byte, 200)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		binary.LittleEndian.PutUint64(obj, uint64(i))
		if _, err := s.Put(ctx, dag.KindTree, obj); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetStored reads back flushed objects: small metadata with Get,
// 64 KiB chunks with AppendObject into a reused buffer.
func BenchmarkGetStored(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	const n = 1000
	meta, chunks := make([]dag.ID, n), make([]dag.ID, n/10)
	obj := make([]byte, 200)
	for i := range meta {
		binary.LittleEndian.PutUint64(obj, uint64(i))
		id, err := s.Put(ctx, dag.KindTree, obj)
		if err != nil {
			b.Fatal(err)
		}
		meta[i] = id
	}
	for i := range chunks {
		id, err := s.Put(ctx, dag.KindChunk, randData(uint64(i), 64<<10))
		if err != nil {
			b.Fatal(err)
		}
		chunks[i] = id
	}
	if err := s.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.Run("meta", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := s.Get(ctx, dag.KindTree, meta[i%n]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("chunk", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(64 << 10)
		var buf []byte
		for i := 0; b.Loop(); i++ {
			var err error
			if buf, err = s.AppendObject(ctx, dag.KindChunk, chunks[i%len(chunks)], buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
