package repo

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/blockread"
	"github.com/dxdata/dx/internal/csvdialect"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/internal/worktree"
	"github.com/dxdata/dx/merge"
	"github.com/dxdata/dx/store"
	"github.com/dxdata/dx/store/chunker"
	"github.com/dxdata/dx/store/chunker/parquetcut"
)

// chunkSource is a merge.Source over a stored File or a worktree file.
type chunkSource struct {
	name     string
	chunks   []dag.ChunkRef
	read     func(ctx context.Context, i int, dst []byte) ([]byte, error)
	close    func()
	once     sync.Once
	first    []byte // chunk 0, read once (sniffing the mode, then the header)
	firstErr error
	// prefetch, if set, starts reading the chunks idx (see merge.Prefetcher).
	prefetch func(ctx context.Context, idx []int)
	// ranges, if set, looks up chunks' key ranges (see merge.KeyRanger).
	ranges func(ctx context.Context, h merge.Header, idx []int) ([]dag.KeyRange, []bool, error)
	// learner, if set, computes the ranges not found as chunks are read.
	learner *rangeLearner
	// inside lists the cuts that fall inside a row (merge.RowCutter), as
	// rowAligned found them.
	inside []int
	// verifiedBytes and verifiedChunks count what cutsInsideRows read.
	verifiedBytes, verifiedChunks atomic.Int64
}

// KeyRanges implements merge.KeyRanger.
func (s *chunkSource) KeyRanges(ctx context.Context, h merge.Header, idx []int) ([]dag.KeyRange, []bool, error) {
	if s.ranges == nil {
		return make([]dag.KeyRange, len(idx)), make([]bool, len(idx)), nil
	}
	return s.ranges(ctx, h, idx)
}

// Prefetch implements merge.Prefetcher.
func (s *chunkSource) Prefetch(ctx context.Context, idx []int) {
	if s.prefetch != nil {
		s.prefetch(ctx, idx)
	}
}

func (s *chunkSource) Chunks() []dag.ChunkRef { return s.chunks }

func (s *chunkSource) AppendChunk(ctx context.Context, i int, dst []byte) ([]byte, error) {
	if i == 0 {
		s.once.Do(func() { s.first, s.firstErr = s.read(ctx, 0, nil) })
		return append(dst, s.first...), s.firstErr
	}
	return s.read(ctx, i, dst)
}

// CutsInsideRows lists the cuts that fall inside a row (merge.RowCutter).
func (s *chunkSource) CutsInsideRows() []int { return s.inside }

// rowAligned reports whether the file was cut only at row ends (see
// merge.DiffOptions), but for the cuts it then lists in s.inside: the
// chunker's mode for its name and first bytes must respect the format's
// row ends. The chunker's CSV mode reads the default dialect
// (csvdialect.Default); of a CSV of another dialect, or cut in Lines mode
// (a quoted field may hold a line end), the chunks say which cuts are row
// ends (cutsInsideRows, with what ends keeps of them).
func (s *chunkSource) rowAligned(ctx context.Context, spec table.Spec, ends rowEnds) (bool, error) {
	f := spec.Format
	if len(s.chunks) <= 1 {
		return true, nil
	}
	head, err := s.AppendChunk(ctx, 0, nil)
	if err != nil {
		return false, err
	}
	if len(head) > chunker.SniffSize {
		head = head[:chunker.SniffSize]
	}
	switch chunker.Sniff(s.name, head) {
	case chunker.CSV:
		if f != table.CSV || spec.CSVDialect() == csvdialect.Default {
			return true, nil
		}
	case chunker.Lines:
		if f != table.CSV {
			return true, nil
		}
	default:
		return false, nil
	}
	inside, err := s.cutsInsideRows(ctx, ends, spec.CSVDialect())
	if err != nil {
		return false, err
	}
	s.inside = inside
	return true, nil
}

func storeSource(ctx context.Context, st *store.Store, id dag.ID, name string) (*chunkSource, error) {
	src := &chunkSource{name: name, close: func() {}}
	err := dag.WalkFile(ctx, st, id, func(c dag.ChunkRef) error {
		src.chunks = append(src.chunks, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	src.read = func(ctx context.Context, i int, dst []byte) ([]byte, error) {
		return st.AppendObject(ctx, dag.KindChunk, src.chunks[i].ID, dst)
	}
	src.prefetch = func(ctx context.Context, idx []int) {
		ids := make([]dag.ID, len(idx))
		for k, i := range idx {
			ids[k] = src.chunks[i].ID
		}
		st.Prefetch(ctx, ids)
	}
	return src, nil
}

// worktreeSource chunks a worktree file as a commit would, remembering
// where each chunk starts, and reads chunks back from the file.
func worktreeSource(ctx context.Context, path, name string) (*chunkSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	ck, err := chunker.New(nil, chunker.DefaultOptions())
	if err != nil {
		f.Close()
		return nil, err
	}
	ck.ResetSniff(f, name)
	next := ck.Next
	// A Parquet file is cut at its pages, as a commit cuts it, so that
	// its chunks match the stored version's.
	if st, err := f.Stat(); err == nil && parquetcut.Sniff(f, st.Size()) {
		if spans, err := parquetcut.Plan(f, st.Size(), chunker.DefaultOptions().ForMode(chunker.Binary)); err == nil {
			next = parquetcut.NewCutter(f, spans, ck).Next
		}
	}
	src := &chunkSource{name: name, close: func() { f.Close() }}
	var offs []int64
	var off int64
	buf := make([]byte, 0, ck.Options().Max)
	for {
		if err := ctx.Err(); err != nil {
			f.Close()
			return nil, err
		}
		b, err := next(buf[:0])
		if err == io.EOF {
			break
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		src.chunks = append(src.chunks, dag.ChunkRef{ID: dag.Hash(dag.KindChunk, b), Len: uint32(len(b))})
		offs = append(offs, off)
		off += int64(len(b))
	}
	src.read = func(ctx context.Context, i int, dst []byte) ([]byte, error) {
		n := len(dst)
		dst = slices.Grow(dst, int(src.chunks[i].Len))[:n+int(src.chunks[i].Len)]
		if _, err := f.ReadAt(dst[n:], offs[i]); err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		return dst, nil
	}
	return src, nil
}

// entrySource is the chunks of a stored file entry; nil: an empty side.
func (r *Repo) entrySource(ctx context.Context, e *dag.TreeEntry, name string) (*chunkSource, error) {
	if e == nil {
		return &chunkSource{name: name}, nil
	}
	return storeSource(ctx, r.Store, e.ID, name)
}

// diffOptions says whether every version was cut only at row ends; if
// so, in a line mode, whose chunks are at most the line-mode Max.
func (r *Repo) diffOptions(ctx context.Context, spec table.Spec, srcs ...*chunkSource) (merge.DiffOptions, error) {
	aligned := make([]bool, len(srcs))
	for i, src := range srcs {
		ok, err := src.rowAligned(ctx, spec, r.rowEnds())
		if err != nil {
			return merge.DiffOptions{}, err
		}
		aligned[i] = ok
	}
	return diffOptionsOf(aligned...), nil
}

// diffOptionsOf are the diff options for versions that were (or were not)
// each cut only at row ends.
func diffOptionsOf(aligned ...bool) merge.DiffOptions {
	return merge.DiffOptions{Aligned: !slices.Contains(aligned, false), MaxChunk: lineModeMax()}
}

// lineModeMax is the most bytes a chunk cut in a line mode holds.
func lineModeMax() int { return chunker.DefaultOptions().ForMode(chunker.Lines).Max }

// checkedOut is a worktree file believed to hold a stored File: a merge
// checks that the worktree is clean first, a commit has just read it into
// the store. Reading a chunk of it costs a
// read from the page cache and the hash that checks it, where the store
// would also decompress it; a chunk that does not match is read from the
// store instead.
type checkedOut struct {
	f    *os.File
	size int64
	// direct, if set, is read instead of f: the file is read whole, about
	// in order, and the page cache does not hold it (see blockread).
	direct *blockread.Reader
	// trusted: the file is known to hold the File (its stat is the one
	// recorded when it was read into the store, and is checked again
	// after): its chunks are read without hashing them.
	trusted bool
}

// openCheckedOut opens the worktree file at path if its size is the
// File's; else it returns nil (and the store is read).
func openCheckedOut(path string, size uint64) *checkedOut {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() || uint64(fi.Size()) != size {
		f.Close()
		return nil
	}
	return &checkedOut{f: f, size: int64(size)}
}

// readWhole says the file is about to be read whole, about in order.
func (w *checkedOut) readWhole() {
	if w != nil {
		w.direct = blockread.Open(int(w.f.Fd()), w.f.Name(), w.size, 0, ingestCached, 2+runtime.GOMAXPROCS(0))
	}
}

// ingestCached is how much of a file's start ingest may have left in the
// page cache when it read the rest directly: the part read through the
// cache, and the kernel's read-ahead past it (see store's directFrom).
const ingestCached = 24 << 20

func (w *checkedOut) Close() {
	if w != nil {
		w.direct.Close()
		w.f.Close()
	}
}

// appendChunk appends chunk c, at offset off of the file, to dst if the
// bytes there are c's; ok is false if they are not (dst is then as given).
func (w *checkedOut) appendChunk(c dag.ChunkRef, off int64, dst []byte) (out []byte, ok bool) {
	if w == nil {
		return dst, false
	}
	n := len(dst)
	out = slices.Grow(dst, int(c.Len))[:n+int(c.Len)]
	var ra io.ReaderAt = w.f
	if w.direct != nil {
		ra = w.direct
	}
	if _, err := ra.ReadAt(out[n:], off); err != nil || !w.trusted && dag.Hash(dag.KindChunk, out[n:]) != c.ID {
		return out[:n], false
	}
	return out, true
}

// unchanged reports whether the open file still has the stat entry e.
func (w *checkedOut) unchanged(e worktree.StatEntry) bool {
	fi, err := w.f.Stat()
	if err != nil {
		return false
	}
	mode, ok := modeOf(fi)
	return ok && e.Matches(statEntry(fi, mode))
}

// backedBy makes src, a stored File's chunks, read them from w where w
// holds them.
func (src *chunkSource) backedBy(w *checkedOut) {
	if w == nil {
		return
	}
	offs := make([]int64, len(src.chunks))
	var off int64
	for i, c := range src.chunks {
		offs[i] = off
		off += int64(c.Len)
	}
	fromStore := src.read
	src.prefetch = nil // its chunks come from the file, not the packs
	src.read = func(ctx context.Context, i int, dst []byte) ([]byte, error) {
		if out, ok := w.appendChunk(src.chunks[i], offs[i], dst); ok {
			return out, nil
		}
		return fromStore(ctx, i, dst)
	}
}
