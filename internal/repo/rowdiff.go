package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
	"github.com/dxdata/dx/store"
	"github.com/dxdata/dx/store/chunker"
)

// TableDiff is the row-level difference of one table between two versions.
// A changed file that is not a table (per .dxattributes) has Spec unset
// and only its file-level Change.
type TableDiff struct {
	Change Change
	Table  bool
	Spec   table.Spec
	Rows   *merge.RowDiff // nil unless Table (and fetched)
	// NotFetched: a table outside a sparse repository's paths, whose
	// content was not fetched; listed only with RowDiffOptions.Unfetched.
	NotFetched bool
}

// RowDiffOptions select what DiffRows compares.
type RowDiffOptions struct {
	Revs  []string // as for Diff: two revisions, one (against the worktree) or none (HEAD against the worktree)
	Paths []string // repository paths to limit the diff to (a directory covers what is below it)
	// Unfetched lists a changed table outside a sparse repository's paths
	// as NotFetched, without rows, instead of failing (a listing may; a
	// delta or a row export must not leave rows out).
	Unfetched bool
}

// DiffRows compares two versions file by file and, for every changed table,
// row by row. Only the chunks that differ between the versions are read.
func (r *Repo) DiffRows(ctx context.Context, o RowDiffOptions) ([]TableDiff, error) {
	sides, err := r.diffSides(ctx, o.Revs)
	if err != nil {
		return nil, err
	}
	changes, err := diffChanges(ctx, sides.getter, sides.old, sides.new)
	if err != nil {
		return nil, err
	}
	attrs, err := r.attributes(ctx, sides)
	if err != nil {
		return nil, err
	}
	var out []TableDiff
	for _, c := range changes {
		if !underAny(c.Path, o.Paths) {
			continue
		}
		td := TableDiff{Change: c}
		spec, ok := attrs.Table(c.Path)
		if !ok || !isFileMode(c.Old) && !isFileMode(c.New) {
			out = append(out, td)
			continue
		}
		td.Table, td.Spec = true, spec
		if o.Unfetched && !r.fetched(c) {
			td.NotFetched = true
			out = append(out, td)
			continue
		}
		rd, err := r.diffTable(ctx, sides, c, spec)
		if errors.Is(err, merge.ErrInvalidRows) {
			return nil, fmt.Errorf("%s: not a valid %s table (%w); row commands cannot read it, dx diff compares it as a file", c.Path, spec.Format, err)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Path, err)
		}
		td.Rows = rd
		out = append(out, td)
	}
	return out, nil
}

func isFileMode(e *dag.TreeEntry) bool { return e != nil && e.Mode.IsFile() }

// fetched reports whether the content of both sides of a change is here:
// in a sparse repository, only within its paths.
func (r *Repo) fetched(c Change) bool {
	if r.sparse == nil {
		return true
	}
	for _, p := range []string{c.From, c.Path} {
		if p != "" && !withinAny(p, r.sparse) {
			return false
		}
	}
	return true
}

func underAny(p string, roots []string) bool {
	if len(roots) == 0 {
		return true
	}
	for _, r := range roots {
		if r == "" || p == r || strings.HasPrefix(p, r+"/") {
			return true
		}
	}
	return false
}

// diffSides are the two trees of a diff. When worktree is set the new side
// is the worktree (its files are read from disk, not from the store).
type diffSides struct {
	old, new dag.ID
	getter   dag.Getter
	worktree bool
}

func (r *Repo) diffSides(ctx context.Context, revs []string) (*diffSides, error) {
	switch len(revs) {
	case 2:
		a, err := r.Resolve(ctx, revs[0])
		if err != nil {
			return nil, err
		}
		b, err := r.Resolve(ctx, revs[1])
		if err != nil {
			return nil, err
		}
		return &diffSides{old: a.Commit.Tree, new: b.Commit.Tree, getter: r.Store}, nil
	case 0, 1:
		var base dag.ID
		if len(revs) == 1 {
			a, err := r.Resolve(ctx, revs[0])
			if err != nil {
				return nil, err
			}
			base = a.Commit.Tree
		} else {
			_, head, _, err := r.headCommit(ctx)
			if err != nil {
				return nil, err
			}
			base = treeOf(head)
		}
		snap, err := r.takeSnapshot(ctx, store.IngestHash, nil, "scanning", dag.ZeroID)
		if err != nil {
			return nil, err
		}
		if err := r.cacheHashed(ctx, snap); err != nil {
			return nil, err
		}
		return &diffSides{old: base, new: emptyToZero(snap), getter: snap.getter, worktree: true}, nil
	}
	return nil, fmt.Errorf("diff takes at most two revisions")
}

// attributes reads .dxattributes from the new side.
func (r *Repo) attributes(ctx context.Context, s *diffSides) (*table.Attributes, error) {
	if s.worktree {
		return r.worktreeAttributes(ctx)
	}
	return r.treeAttributes(ctx, s.new)
}

// diffTable row-diffs one changed path.
func (r *Repo) diffTable(ctx context.Context, s *diffSides, c Change, spec table.Spec) (*merge.RowDiff, error) {
	var srcs [2]*chunkSource
	for k, e := range []*dag.TreeEntry{c.Old, c.New} {
		name := c.Path
		if k == 0 && c.From != "" {
			name = c.From
		}
		if r.sparse != nil && e != nil && !withinAny(name, r.sparse) {
			return nil, fmt.Errorf("outside this sparse repository's paths, its content was not fetched (dx pull --path %s)", name)
		}
		switch {
		case e == nil || !e.Mode.IsFile():
			srcs[k] = &chunkSource{name: name} // no rows on this side
		case k == 1 && s.worktree:
			src, err := worktreeSource(ctx, filepath.Join(r.Root, filepath.FromSlash(c.Path)), name)
			if err != nil {
				return nil, err
			}
			defer src.close()
			srcs[k] = src
		default:
			src, err := r.entrySource(ctx, e, name)
			if err != nil {
				return nil, err
			}
			srcs[k] = src
		}
	}
	o, err := diffOptions(ctx, spec.Format, srcs[:]...)
	if err != nil {
		return nil, err
	}
	return merge.DiffRows(ctx, table.New(spec), srcs[0], srcs[1], o)
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
func diffOptions(ctx context.Context, f table.Format, srcs ...*chunkSource) (merge.DiffOptions, error) {
	aligned := make([]bool, len(srcs))
	for i, src := range srcs {
		ok, err := src.rowAligned(ctx, f)
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
	return merge.DiffOptions{Aligned: !slices.Contains(aligned, false), MaxChunk: chunker.DefaultOptions().ForMode(chunker.Lines).Max}
}

// chunkSource is a merge.Source over a stored File or a worktree file.
type chunkSource struct {
	name   string
	chunks []dag.ChunkRef
	read   func(ctx context.Context, i int, dst []byte) ([]byte, error)
	close  func()
	once   sync.Once
	first  []byte // chunk 0, read once (sniffing the mode, then the header)
	ferr   error
	// prefetch, if set, starts reading the chunks idx (see merge.Prefetcher).
	prefetch func(ctx context.Context, idx []int)
	// ranges, if set, looks up chunks' key ranges (see merge.KeyRanger).
	ranges func(ctx context.Context, h merge.Header, idx []int) ([]dag.KeyRange, []bool, error)
	// learner, if set, computes the ranges not found as chunks are read.
	learner *rangeLearner
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
		s.once.Do(func() { s.first, s.ferr = s.read(ctx, 0, nil) })
		return append(dst, s.first...), s.ferr
	}
	return s.read(ctx, i, dst)
}

// rowAligned reports whether the file was cut only at row ends (see
// merge.DiffOptions): the chunker's mode for its name and first bytes must
// respect the format's row ends.
func (s *chunkSource) rowAligned(ctx context.Context, f table.Format) (bool, error) {
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
		return true, nil
	case chunker.Lines:
		return f != table.CSV, nil // a quoted CSV field may hold a line end
	}
	return false, nil
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
	src := &chunkSource{name: name, close: func() { f.Close() }}
	var offs []int64
	var off int64
	buf := make([]byte, 0, ck.Options().Max)
	for {
		if err := ctx.Err(); err != nil {
			f.Close()
			return nil, err
		}
		b, err := ck.Next(buf[:0])
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
