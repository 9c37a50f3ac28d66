package repo

import (
	"context"
	"io"
	"os"

	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
	"github.com/dxdata/dx/store"
	"github.com/dxdata/dx/store/chunker"
)

// chunkKeys returns what makes the ingest of the table file at path (full,
// on disk) record its chunks' key ranges, or nil: not a keyed CSV/TSV
// table, or a header that cannot be read from its first bytes.
func chunkKeys(attrs *table.Attributes, path, full string) *store.ChunkKeys {
	if attrs == nil {
		return nil
	}
	spec, ok := attrs.Table(path)
	if !ok || len(spec.Key) == 0 || spec.Format == table.JSONL {
		return nil
	}
	f, err := os.Open(full)
	if err != nil {
		return nil // reading it will say why
	}
	defer f.Close()
	buf := make([]byte, chunker.DefaultOptions().Min)
	n, err := io.ReadFull(f, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil
	}
	t := table.New(spec)
	h, _, err := t.Header(buf[:n], n < len(buf))
	if err != nil {
		return nil
	}
	tag, rangeOf, ok := t.ChunkKeys(h)
	if !ok {
		return nil
	}
	return &store.ChunkKeys{Tag: tag, Range: func(chunk []byte, first bool) (string, string, bool) {
		kr, ok := rangeOf(chunk, first)
		return kr.Lo, kr.Hi, ok
	}}
}

// keyRanges looks up the recorded key ranges of chunks idx of src, a
// version of a table of spec whose header is h.
func keyRanges(ctx context.Context, st *store.Store, spec table.Spec, src *chunkSource, h merge.Header, idx []int) ([]merge.KeyRange, []bool, error) {
	tag, _, ok := table.New(spec).ChunkKeys(h)
	if !ok {
		return make([]merge.KeyRange, len(idx)), make([]bool, len(idx)), nil
	}
	refs := make([]store.KeyRangeRef, len(idx))
	for k, i := range idx {
		refs[k] = store.KeyRangeRef{ID: src.chunks[i].ID, First: i == 0}
	}
	lo, hi, found, err := st.KeyRanges(ctx, tag, refs)
	if err != nil {
		return nil, nil, err
	}
	out := make([]merge.KeyRange, len(idx))
	for k := range out {
		out[k] = merge.KeyRange{Lo: lo[k], Hi: hi[k]}
	}
	return out, found, nil
}
