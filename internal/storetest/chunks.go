package storetest

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/chunker"
	"github.com/dxdata/dx/store/chunker/parquetcut"
)

// Chunks cuts a file named name as a commit does: at its pages when it
// is Parquet, else by the chunker's mode for it. It returns the chunks and
// their refs.
func Chunks(t testing.TB, name string, data []byte) ([][]byte, []dag.ChunkRef) {
	t.Helper()
	if len(data) == 0 {
		return nil, nil
	}
	o := chunker.DefaultOptions()
	ck, err := chunker.New(nil, o)
	if err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(data)
	ck.ResetSniff(r, name)
	next := ck.Next
	if spans, err := parquetcut.Plan(r, int64(len(data)), o.ForMode(chunker.Binary)); err == nil {
		next = parquetcut.NewCutter(r, spans, ck).Next
	}
	var chunks [][]byte
	var refs []dag.ChunkRef
	for {
		b, err := next(nil)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		chunks = append(chunks, b)
		refs = append(refs, dag.ChunkRef{ID: dag.Hash(dag.KindChunk, b), Len: uint32(len(b))})
	}
	return chunks, refs
}
