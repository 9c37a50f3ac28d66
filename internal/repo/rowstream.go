package repo

import (
	"context"
	"fmt"
	"sync"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/internal/table/parquet"
	"github.com/dxdata/dx/merge"
)

// TableStream is one changed path between two commits with, for a
// fetched table, its row diff as a stream (merge.RowStream): changes
// arrive as they are found and rows are read back a page at a time, so a
// diff of millions of rows shows its first rows at once and holds
// offsets, not rows. TableDiff.Rows is unset.
type TableStream struct {
	TableDiff
	rows  *merge.RowStream
	close func()
	// held, for a Parquet table, computes its diff whole (rows have no
	// byte offsets to read back): Run emits refs indexing its changes.
	held *heldDiff
}

// Run computes the row diff (see merge.RowStream.Run); nothing for a path
// that is not a table or was not fetched.
func (s *TableStream) Run(ctx context.Context, emit func(merge.StreamEvent) error) error {
	if s.held != nil {
		if err := s.held.run(ctx, emit); err != nil {
			return tableError(s.Change.Path, s.Spec, err)
		}
		return nil
	}
	if s.rows == nil {
		return emit(merge.StreamEvent{Done: true})
	}
	if err := s.rows.Run(ctx, emit); err != nil {
		return tableError(s.Change.Path, s.Spec, err)
	}
	return nil
}

// Rows reads the rows of some of the changes Run emitted.
func (s *TableStream) Rows(ctx context.Context, refs []merge.ChangeRef) ([]merge.RowChange, error) {
	if s.held != nil {
		return s.held.rows(refs)
	}
	if s.rows == nil {
		return nil, fmt.Errorf("%s: no rows to read", s.Change.Path)
	}
	rows, err := s.rows.Rows(ctx, refs)
	if err != nil {
		return nil, tableError(s.Change.Path, s.Spec, err)
	}
	return rows, nil
}

// Headers are the table's two headers, known once Run has emitted.
func (s *TableStream) Headers() (old, new merge.Header) {
	if s.held != nil {
		return s.held.headers()
	}
	if s.rows == nil {
		return merge.Header{}, merge.Header{}
	}
	return s.rows.Headers()
}

// Close releases what the stream reads from; the repository must stay
// open until then.
func (s *TableStream) Close() { s.close() }

// StreamRows opens the change of one path from commit from to commit to
// (a zero from: the empty tree); for a table, its rows are diffed by
// the stream's Run. It fails with ErrPathspec if the path did not change.
func (r *Repo) StreamRows(ctx context.Context, from, to dag.ID, path string) (*TableStream, error) {
	sides, err := r.commitSides(ctx, from, to)
	if err != nil {
		return nil, err
	}
	changes, attrs, err := r.changesOf(ctx, sides)
	if err != nil {
		return nil, err
	}
	for _, c := range changes {
		if c.Path != path {
			continue
		}
		s := &TableStream{TableDiff: r.tableDiffOf(c, attrs), close: func() {}}
		if !s.Table || s.NotFetched {
			return s, nil
		}
		srcs, o, closeSrcs, err := r.tableSources(ctx, sides, c, s.Spec)
		if err != nil {
			return nil, tableError(c.Path, s.Spec, err)
		}
		s.close = closeSrcs
		if s.Spec.Format == table.Parquet {
			s.held = &heldDiff{diff: func(ctx context.Context) (*merge.RowDiff, error) {
				return parquet.Diff(ctx, s.Spec.Key, srcs[0], srcs[1])
			}}
			return s, nil
		}
		s.rows = merge.NewRowStream(table.New(s.Spec), srcs[0], srcs[1], o)
		return s, nil
	}
	return nil, fmt.Errorf("%s: %w: it did not change between %s and %s", path, ErrPathspec, from.Short(), to.Short())
}

// heldDiff streams a row diff computed whole: one event, whose refs are
// the indexes of its changes (OldOff and NewOff both the index; a length
// of 1 on each side the change has a row).
type heldDiff struct {
	diff func(ctx context.Context) (*merge.RowDiff, error)
	mu   sync.Mutex
	d    *merge.RowDiff
}

func (h *heldDiff) run(ctx context.Context, emit func(merge.StreamEvent) error) error {
	d, err := h.diff(ctx)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.d = d
	h.mu.Unlock()
	refs := make([]merge.ChangeRef, len(d.Changes))
	for i, c := range d.Changes {
		refs[i] = merge.ChangeRef{OldOff: int64(i), NewOff: int64(i)}
		if c.Old != nil {
			refs[i].OldLen = 1
		}
		if c.New != nil {
			refs[i].NewLen = 1
		}
	}
	return emit(merge.StreamEvent{Changes: refs, Done: true, Stats: d.Stats})
}

func (h *heldDiff) rows(refs []merge.ChangeRef) ([]merge.RowChange, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]merge.RowChange, 0, len(refs))
	for _, r := range refs {
		if h.d == nil || r.NewOff < 0 || r.NewOff >= int64(len(h.d.Changes)) {
			return nil, fmt.Errorf("no change %d in this diff", r.NewOff)
		}
		out = append(out, h.d.Changes[r.NewOff])
	}
	return out, nil
}

func (h *heldDiff) headers() (old, new merge.Header) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.d == nil {
		return merge.Header{}, merge.Header{}
	}
	return h.d.OldHeader, h.d.NewHeader
}
