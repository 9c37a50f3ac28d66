package store

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/dxdata/dx/dag"
)

// TestCopyFileSmallAndLarge: CopyFile writes a file's exact bytes, on the
// calling goroutine (up to inlineCopy) or through the parallel pipeline,
// and a sparse copy that ends in zeros has the file's size. It reads each
// chunk once.
func TestCopyFileSmallAndLarge(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	zeros := make([]byte, 300<<10)
	cases := map[string][]byte{
		"empty":             nil,
		"small":             randData(1, 40<<10),
		"small, zero tail":  append(randData(2, 20<<10), zeros...),
		"large":             randData(3, 3*inlineCopy),
		"large, zero tail":  append(randData(4, 2*inlineCopy), append(zeros, zeros...)...),
		"large, zero start": append(append(zeros, zeros...), randData(5, 2*inlineCopy)...),
	}
	dir := t.TempDir()
	for name, data := range cases {
		res, err := s.Ingest(ctx, []IngestFile{memFile(name, data)}, IngestOptions{})
		if err != nil {
			t.Fatal(err)
		}
		id := res[0].ID
		var chunks, nodes int64
		if err := dag.WalkFile(ctx, s, id, func(dag.ChunkRef) error { chunks++; return nil }); err != nil {
			t.Fatal(err)
		}
		if err := dag.FileNodes(ctx, s, id, func(dag.ID, *dag.FileNode) error { nodes++; return nil }); err != nil {
			t.Fatal(err)
		}
		before := s.stats.ObjectsRead.Load()
		var buf bytes.Buffer
		n, err := s.CopyFile(ctx, id, &buf, CopyOptions{})
		if err != nil || n != int64(len(data)) || !bytes.Equal(buf.Bytes(), data) {
			t.Fatalf("%s: copied %d bytes of %d, equal %v (%v)", name, n, len(data), bytes.Equal(buf.Bytes(), data), err)
		}
		// Each node and each chunk once.
		if read := s.stats.ObjectsRead.Load() - before; read != nodes+chunks {
			t.Fatalf("%s: %d objects read for %d nodes and %d chunks", name, read, nodes, chunks)
		}
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		n, err = s.CopyFile(ctx, id, f, CopyOptions{Sparse: true})
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		got, rerr := os.ReadFile(p)
		if err != nil || rerr != nil || n != int64(len(data)) || !bytes.Equal(got, data) {
			t.Fatalf("%s, sparse: wrote %d bytes of %d, file has %d, equal %v (%v, %v)", name, n, len(data), len(got), bytes.Equal(got, data), err, rerr)
		}
	}
}
