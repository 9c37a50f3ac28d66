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
	v, err := openVersion(ctx, src, false)
	if err != nil || v.f == nil {
		return t, err
	}
	t = Table{Cols: v.cols, Rows: v.f.NumRows()}
	var keyIdx []int
	for _, c := range key {
		i := slices.Index(v.cols, c)
		if i < 0 {
			return t, invalid("key column %q is not in the schema (%s)", c, strings.Join(v.cols, ", "))
		}
		keyIdx = append(keyIdx, i)
	}
	var fnErr error
	var st merge.DiffStats
	err = v.each(v.segs, keyIdx, len(key) > 0, map[page]bool{}, &st, func(r merge.Row) error {
		if err := ctx.Err(); err != nil {
			fnErr = err
			return err
		}
		if err := fn(&r); err != nil {
			fnErr = err
			return err
		}
		return nil
	})
	if fnErr != nil {
		return t, fnErr
	}
	return t, err
}
