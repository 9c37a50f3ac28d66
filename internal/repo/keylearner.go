package repo

import (
	"context"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/dxdata/dx/dag"

	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
	"github.com/dxdata/dx/store"
	"github.com/dxdata/dx/store/chunker"
)

// tableHead reads the first bytes of the table file at path (full, on
// disk): its spec, header, and the bytes up to its first row; false: not
// a table, or a header that cannot be read from its first bytes.
func tableHead(attrs *table.Attributes, path, full string) (table.Spec, merge.Header, []byte, bool) {
	if attrs == nil {
		return table.Spec{}, merge.Header{}, nil, false
	}
	spec, ok := attrs.Table(path)
	if !ok || spec.Format == table.Parquet {
		return table.Spec{}, merge.Header{}, nil, false
	}
	f, err := os.Open(full)
	if err != nil {
		return table.Spec{}, merge.Header{}, nil, false // reading it will say why
	}
	defer f.Close()
	buf := make([]byte, chunker.DefaultOptions().Min)
	n, err := io.ReadFull(f, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return table.Spec{}, merge.Header{}, nil, false
	}
	h, hdrLen, err := table.New(spec).Header(buf[:n], n < len(buf))
	if err != nil {
		return table.Spec{}, merge.Header{}, nil, false
	}
	return spec, h, buf[:hdrLen], true
}

// recordKeys returns what makes an ingest record the key ranges of the
// chunks of a table of spec whose header is h, or nil: not keyed.
func recordKeys(spec table.Spec, h merge.Header) *store.ChunkKeys {
	tag, rangeOf, ok := table.New(spec).ChunkKeys(h)
	if !ok {
		return nil
	}
	return &store.ChunkKeys{Tag: tag, Range: rangeOf}
}

// keyRanges looks up the recorded key ranges of chunks idx of src, a
// version of a table of spec whose header is h; those not found, src's
// learner (if set) computes as they are read.
func keyRanges(ctx context.Context, st *store.Store, spec table.Spec, src *chunkSource, h merge.Header, idx []int) ([]dag.KeyRange, []bool, error) {
	tag, rangeOf, ok := table.New(spec).ChunkKeys(h)
	if !ok {
		return make([]dag.KeyRange, len(idx)), make([]bool, len(idx)), nil
	}
	refs := make([]store.KeyRangeRef, len(idx))
	for k, i := range idx {
		refs[k] = store.KeyRangeRef{ID: src.chunks[i].ID, First: i == 0}
	}
	out, found, err := st.KeyRanges(ctx, tag, refs)
	if err != nil {
		return nil, nil, err
	}
	for k, i := range idx {
		if _, midRow := slices.BinarySearch(src.inside, i-1); midRow && i > 0 {
			// A chunk's range is of the rows it holds read from its
			// start: here it starts inside a row.
			found[k] = false
			continue
		}
		if !found[k] && src.learner != nil {
			src.learner.want(tag, rangeOf, refs[k])
		}
	}
	return out, found, nil
}

// rangesFrom makes src, a version of a table of spec, look its chunks'
// key ranges up in st (see keyRanges).
func (src *chunkSource) rangesFrom(st *store.Store, spec table.Spec) {
	src.ranges = func(ctx context.Context, h merge.Header, idx []int) ([]dag.KeyRange, []bool, error) {
		return keyRanges(ctx, st, spec, src, h, idx)
	}
}

// rangeLearner computes the key ranges of chunks that were looked up and
// not found (fetched from a remote, or committed by a dx that did not
// record them) when a merge reads them, and records them at the end: the
// next merge over them finds them.
type rangeLearner struct {
	mu      sync.Mutex
	tag     [8]byte
	rangeOf func(chunk []byte, first bool) (dag.KeyRange, bool)
	wanted  map[store.KeyRangeRef]bool
	learnt  []store.KeyRangeEntry
	read    int // chunks the merge read
}

func (l *rangeLearner) want(tag [8]byte, rangeOf func([]byte, bool) (dag.KeyRange, bool), ref store.KeyRangeRef) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.wanted == nil {
		l.tag, l.rangeOf, l.wanted = tag, rangeOf, map[store.KeyRangeRef]bool{}
	}
	if tag == l.tag { // (one header per merge: always)
		l.wanted[ref] = true
	}
}

// saw is told of every chunk read.
func (l *rangeLearner) saw(ref store.KeyRangeRef, chunk []byte) {
	l.mu.Lock()
	l.read++
	want := l.wanted[ref]
	delete(l.wanted, ref)
	rangeOf := l.rangeOf
	l.mu.Unlock()
	if !want {
		return
	}
	if keyRange, ok := rangeOf(chunk, ref.First); ok {
		l.mu.Lock()
		l.learnt = append(l.learnt, store.KeyRangeEntry{KeyRangeRef: ref, KeyRange: keyRange})
		l.mu.Unlock()
	}
}

// learn makes src tell l of the chunks it reads.
func (src *chunkSource) learn(l *rangeLearner) {
	src.learner = l
	inner := src.read
	src.read = func(ctx context.Context, i int, dst []byte) ([]byte, error) {
		out, err := inner(ctx, i, dst)
		if err == nil {
			l.saw(store.KeyRangeRef{ID: src.chunks[i].ID, First: i == 0}, out[len(dst):])
		}
		return out, err
	}
}

// record writes what l learnt (the first chunks, read before the lookup,
// from srcs). The chunks still wanted, which the merge did not read (ours'
// changed runs away from theirs' changes, say), it reads now, as many as
// the merge read and more: a merge after a clone reads them once, and the
// next can take runs unread.
func (l *rangeLearner) record(ctx context.Context, st *store.Store, srcs ...*chunkSource) error {
	for _, s := range srcs {
		if s != nil && len(s.chunks) > 0 && s.first != nil {
			l.saw(store.KeyRangeRef{ID: s.chunks[0].ID, First: true}, s.first)
		}
	}
	budget := 2*l.read + learnMin
	var buf []byte
	for ref := range l.wanted {
		if budget--; budget < 0 {
			break
		}
		var err error
		if buf, err = st.AppendObject(ctx, dag.KindChunk, ref.ID, buf[:0]); err != nil {
			continue // not here (a sparse clone), or unreadable: fsck says
		}
		l.saw(ref, buf)
	}
	if len(l.learnt) == 0 {
		return nil
	}
	return st.RecordKeyRanges(l.tag, l.learnt)
}

// learnMin is the least number of chunks record reads to learn ranges.
const learnMin = 256

// headHas returns whether HEAD's tree has a file at a path (false
// without a HEAD), HEAD read at the first call.
func (r *Repo) headHas(ctx context.Context) func(path string) bool {
	tree := sync.OnceValue(func() dag.ID {
		_, c, _, err := r.headCommit(ctx)
		if err != nil {
			return dag.ZeroID
		}
		return treeOf(c)
	})
	return func(path string) bool {
		root := tree()
		if root.IsZero() {
			return false
		}
		e, err := dag.LookupPath(ctx, r.Store, root, path)
		return err == nil && e.Mode.IsFile()
	}
}
