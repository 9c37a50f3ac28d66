package parquet

import (
	"bytes"
	"errors"
	"io"

	pq "github.com/parquet-go/parquet-go"

	"github.com/dxdata/dx/merge"
)

// Decoding parts of a version: some leaf columns over a run of rows, or
// one row whole (see inplace.go).

// keyLeaves are the leaf columns of the key fields, or nil when a key
// field is not a leaf (nested): then rows are not compared in place.
func (v *version) keyLeaves(keyIdx []int) []int {
	at := make([]int, len(v.fields))
	n := 0
	for i, f := range v.fields {
		at[i] = n
		n += leaves(f)
	}
	var out []int
	for _, k := range keyIdx {
		if !v.fields[k].Leaf() {
			return nil
		}
		out = append(out, at[k])
	}
	return out
}

// leafRows decodes leaf column c of row group g for rows [from, to): the
// values of each row.
func (v *version) leafRows(g, c int, from, to int64) ([][]pq.Value, error) {
	n := int(to - from)
	// The values go in one array, each row a slice of it: a row per
	// allocation would cost more than decoding it.
	flat := make([]pq.Value, 0, n)
	starts := make([]int, 0, n)
	err := v.eachValue(g, c, from, to, func(_ int, first bool, val pq.Value) error {
		if first {
			starts = append(starts, len(flat))
		}
		flat = append(flat, val.Clone())
		return nil
	})
	if err != nil {
		return nil, err
	}
	rows := make([][]pq.Value, len(starts))
	for i, s := range starts {
		e := len(flat)
		if i+1 < len(starts) {
			e = starts[i+1]
		}
		rows[i] = flat[s:e:e]
	}
	return rows, nil
}

// eachFirst calls fn with the first value of each row of leaf column c
// of row group g in [from, to) (i from 0), in order; the value is valid
// only during the call. Nothing is kept: the key column of every pending
// row is read this way.
func (v *version) eachFirst(g, c int, from, to int64, fn func(i int, val pq.Value) error) error {
	return v.eachValue(g, c, from, to, func(i int, first bool, val pq.Value) error {
		if !first {
			return nil
		}
		return fn(i, val)
	})
}

// eachValue calls fn with each value of leaf column c of row group g for
// rows [from, to), in order: its row (from 0) and whether it starts it.
// The value is valid only during the call.
func (v *version) eachValue(g, c int, from, to int64, fn func(row int, first bool, val pq.Value) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = invalid("not valid Parquet: %v", p)
		}
	}()
	pages := v.f.RowGroups()[g].ColumnChunks()[c].Pages()
	defer pages.Close()
	if err := pages.SeekToRow(from); err != nil {
		return invalid("row group %d, column %d: seek to row %d: %v", g, c, from, err)
	}
	n := int(to - from)
	buf := make([]pq.Value, 512)
	row := -1 // the row of the last value
	for {
		pg, err := pages.ReadPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return invalid("row group %d, column %d: %v", g, c, err)
		}
		done, ferr, rerr := eachPageValue(pg, buf, &row, n, func(row int, first bool, val pq.Value) error {
			if row < 0 {
				return invalid("row group %d, column %d: a value continues a row before row %d", g, c, from)
			}
			return fn(row, first, val)
		})
		pq.Release(pg)
		switch {
		case ferr != nil:
			return ferr
		case rerr != nil:
			return invalid("row group %d, column %d: %v", g, c, rerr)
		case done:
			return nil
		}
	}
	if row+1 != n {
		return invalid("row group %d, column %d: %d rows from row %d, want %d", g, c, row+1, from, n)
	}
	return nil
}

// eachPageValue calls fn with the values of page pg (read through buf)
// until one starts row n; *row is the row of the last value. done: row
// n was reached; ferr is fn's error, rerr the page's.
func eachPageValue(pg pq.Page, buf []pq.Value, row *int, n int, fn func(row int, first bool, val pq.Value) error) (done bool, ferr, rerr error) {
	vr := pg.Values()
	for {
		k, err := vr.ReadValues(buf)
		for _, val := range buf[:k] {
			first := val.RepetitionLevel() == 0
			if first {
				if *row+1 == n {
					return true, nil, nil
				}
				*row++
			}
			if ferr := fn(*row, first, val); ferr != nil {
				return false, ferr, nil
			}
		}
		switch {
		case errors.Is(err, io.EOF):
			return false, nil, nil
		case err != nil:
			return false, nil, err
		}
	}
}

// equalValues: two rows' values of one leaf column are the same.
func equalValues(a, b []pq.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Kind() != y.Kind() || x.IsNull() != y.IsNull() || x.RepetitionLevel() != y.RepetitionLevel() ||
			x.DefinitionLevel() != y.DefinitionLevel() || !bytes.Equal(x.Bytes(), y.Bytes()) {
			return false
		}
	}
	return true
}

// rowReader decodes whole rows asked for in file order, keeping one
// reader per row group: a page holding several of them is decompressed
// once (the library serves its last page again), where a reader per row
// decompressed every column's page for every row.
type rowReader struct {
	v    *version
	g    int
	rows pq.Rows
	buf  []pq.Row
}

// read decodes row r of row group g whole (its values its own).
func (rr *rowReader) read(g int, r int64) (row pq.Row, err error) {
	defer func() {
		if p := recover(); p != nil {
			row, err = nil, invalid("not valid Parquet: %v", p)
		}
	}()
	if rr.rows == nil || rr.g != g {
		rr.close()
		rr.rows, rr.g = rr.v.f.RowGroups()[g].Rows(), g
		rr.buf = make([]pq.Row, 1)
	}
	if err := rr.rows.SeekToRow(r); err != nil {
		return nil, invalid("row group %d: seek to row %d: %v", g, r, err)
	}
	rr.buf[0] = rr.buf[0][:0]
	if n, err := rr.rows.ReadRows(rr.buf); n != 1 {
		return nil, invalid("row group %d: row %d: %v", g, r, err)
	}
	return rr.buf[0].Clone(), nil
}

func (rr *rowReader) close() {
	if rr.rows != nil {
		rr.rows.Close()
		rr.rows = nil
	}
}

// convert turns a decoded row into a merge.Row.
func (v *version) convert(r pq.Row, keyIdx []int) (merge.Row, error) {
	leafCounts := make([]int, len(v.fields))
	nLeaves := 0
	for i, f := range v.fields {
		leafCounts[i] = leaves(f)
		nLeaves += leafCounts[i]
	}
	return v.row(r, &assembler{}, make([][]pq.Value, nLeaves), leafCounts, keyIdx, true)
}
