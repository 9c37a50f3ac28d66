package parquet

import (
	"context"
	"slices"
	"strings"

	"github.com/dxdata/dx/merge"
)

// Table is what a Parquet version's footer says of its rows: the
// top-level columns and the row count.
type Table struct {
	Cols []string
	Rows int64
}

// Footer reads a version's footer alone (an empty source: no columns, no
// rows). A file that is not valid Parquet is merge.ErrInvalidRows.
func Footer(ctx context.Context, src merge.Source) (t Table, err error) {
	v, err := openVersion(ctx, src, false)
	if err != nil || v.f == nil {
		return t, err
	}
	return Table{Cols: v.cols, Rows: v.f.NumRows()}, nil
}

// Scan calls fn with every row of a version, in file order: Line is the
// row's 1-based number in the file, Key the key columns' values (the
// whole row without a key), values JSON as in a row diff. It returns the
// footer's description of the rows. A file that is not valid Parquet, or
// that lacks a key column, is merge.ErrInvalidRows; an error of fn ends
// the scan and is returned as it is.
func Scan(ctx context.Context, key []string, src merge.Source, fn func(r *merge.Row) error) (t Table, err error) {
	segs, err := OpenRowGroups(ctx, src, key)
	if err != nil || segs.v.f == nil {
		return t, err
	}
	t = Table{Cols: segs.v.cols, Rows: segs.v.f.NumRows()}
	for i := range segs.Len() {
		if err := segs.Each(ctx, i, fn); err != nil {
			return t, err
		}
	}
	return t, nil
}

// eachOf is each for callers: it stops when ctx ends, and an error of fn
// comes back as it is (each's recovery names any panic invalid Parquet).
func (v *version) eachOf(ctx context.Context, segs []segment, keyIdx []int, keyed bool, st *merge.DiffStats, fn func(r *merge.Row) error) error {
	var fnErr error
	err := v.each(segs, keyIdx, keyed, map[page]bool{}, st, func(r merge.Row) error {
		if fnErr = ctx.Err(); fnErr != nil {
			return fnErr
		}
		if fnErr = fn(&r); fnErr != nil {
			return fnErr
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}

// Segments is a version opened to read its rows a segment at a time:
// the rows between page starts (with an offset index), else whole row
// groups, as the row diff cuts them. Not for use from several goroutines
// at once: open one each.
type Segments struct {
	v      *version
	st     merge.DiffStats
	keyIdx []int // of the key's columns, for Each's rows
	// wholeKey: Each's rows are keyed by their whole content (a table
	// without a key); else by keyIdx's columns (none: no Key).
	wholeKey bool
}

// OpenSegments reads a version's footer and page indexes (an empty
// source has no segments). A file that is not valid Parquet is
// merge.ErrInvalidRows.
func OpenSegments(ctx context.Context, src merge.Source) (*Segments, error) {
	v, err := openVersion(ctx, src, true)
	if err != nil {
		return nil, err
	}
	return &Segments{v: v}, nil
}

// OpenRowGroups reads a version's footer alone: its segments are its
// row groups, whose rows Each gives with their Key (the key columns'
// values; the whole row without a key). A file that is not valid
// Parquet, or lacks a key column, is merge.ErrInvalidRows.
func OpenRowGroups(ctx context.Context, src merge.Source, key []string) (*Segments, error) {
	v, err := openVersion(ctx, src, false)
	if err != nil {
		return nil, err
	}
	s := &Segments{v: v}
	if v.f == nil {
		return s, nil
	}
	for _, c := range key {
		i := slices.Index(v.cols, c)
		if i < 0 {
			return nil, invalid("key column %q is not in the schema (%s)", c, strings.Join(v.cols, ", "))
		}
		s.keyIdx = append(s.keyIdx, i)
	}
	s.wholeKey = len(key) == 0
	return s, nil
}

// Len is the number of segments.
func (s *Segments) Len() int { return len(s.v.segs) }

// ID names segment i by the chunks holding its bytes in every column and
// where its rows lie in them: two segments with one id hold the same rows.
func (s *Segments) ID(i int) [32]byte { return s.v.segs[i].id }

// ContentID names segment i by its bytes in every column, read (for
// segments whose chunks changed: a chunk can hold several small pages,
// some of them unchanged).
func (s *Segments) ContentID(i int) [32]byte { return s.v.contentID(&s.v.segs[i]) }

// Rows is the version's row count, from its footer.
func (s *Segments) Rows() int64 {
	if s.v.f == nil {
		return 0
	}
	return s.v.f.NumRows()
}

// Cols are the top-level columns.
func (s *Segments) Cols() []string { return s.v.cols }

// Schema describes the columns, one a line, as a schema change names them.
func (s *Segments) Schema() []string {
	if s.v.f == nil {
		return nil
	}
	return s.v.schemaText()
}

// BytesDecoded are the page bytes the segments read so far decoded.
func (s *Segments) BytesDecoded() int64 { return s.st.BytesParsed }

// Each calls fn with the rows of segment i, in file order (Line: the
// row's number in the file; Key as OpenRowGroups says, none from
// OpenSegments).
func (s *Segments) Each(ctx context.Context, i int, fn func(r *merge.Row) error) error {
	return s.v.eachOf(ctx, s.v.segs[i:i+1], s.keyIdx, !s.wholeKey, &s.st, fn)
}

// ScanColumn calls fn with the value of top-level column col in every
// row, in file order (row: its 1-based number; val: JSON as in a row
// diff, "null" for a null), decoding that column's pages alone. ok is
// false when col is not a leaf column of the schema: read the rows whole.
func ScanColumn(ctx context.Context, src merge.Source, col string, fn func(row int, val string) error) (ok bool, err error) {
	v, err := openVersion(ctx, src, false)
	if err != nil || v.f == nil {
		return err == nil, err
	}
	i := slices.Index(v.cols, col)
	if i < 0 || !v.fields[i].Leaf() {
		return false, nil
	}
	leaf := v.keyLeaves([]int{i})[0]
	starts := v.groupStarts()
	var b []byte
	for g, rg := range v.f.RowGroups() {
		if err := ctx.Err(); err != nil {
			return true, err
		}
		rows, err := v.leafRows(g, leaf, 0, rg.NumRows())
		if err != nil {
			return true, err
		}
		for r, vals := range rows {
			text := "null"
			if len(vals) > 0 && !vals[0].IsNull() {
				if b, err = appendLeaf(b[:0], v.fields[i], vals[0]); err != nil {
					return true, invalid("row %d: column %q: %v", starts[g]+int64(r)+1, col, err)
				}
				text = string(b)
			}
			if err := fn(int(starts[g])+r+1, text); err != nil {
				return true, err
			}
		}
	}
	return true, nil
}
