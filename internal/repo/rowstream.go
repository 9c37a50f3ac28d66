package repo

import (
	"context"
	"fmt"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/table"
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
}

// Run computes the row diff (see merge.RowStream.Run); nothing for a path
// that is not a table or was not fetched.
func (s *TableStream) Run(ctx context.Context, emit func(merge.StreamEvent) error) error {
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
		s.rows, s.close = merge.NewRowStream(table.New(s.Spec), srcs[0], srcs[1], o), closeSrcs
		return s, nil
	}
	return nil, fmt.Errorf("%s: %w: it did not change between %s and %s", path, ErrPathspec, from.Short(), to.Short())
}
