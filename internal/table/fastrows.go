package table

import (
	"bytes"

	"github.com/dxdata/dx/merge"
)

// FastRows reads the rows of data as Parse would, for the common case
// only: CSV or TSV with a header, and for CSV no quote or lone CR in data
// (every row is then one line, split at the separator). It calls fn with
// each row's key (the key columns joined as Parse joins them; nil for a
// table without a key: the key is then the row) and reports true; or it
// reports false at once, having called fn for some rows, for anything
// else (Parse must then read data: a quote, a row with the wrong number
// of fields, JSONL). A key passed to fn is valid only during the call.
// data starts at a row boundary and ends at one (or at the end of the
// file).
func (r *Reader) FastRows(h merge.Header, data []byte, fn func(key []byte)) bool {
	sep, ok := r.fastSep(h, data)
	if !ok {
		return false
	}
	idx := r.keyIndexes(h.Cols)
	need := 0 // fields to find: up to the last key column
	for _, j := range idx {
		need = max(need, j+1)
	}
	var key []byte
	want := len(h.Cols) - 1 // separators in a row
	fields := make([][]byte, need)
	for len(data) > 0 {
		var line []byte
		line, data = nextLine(data)
		if len(line) == 0 {
			continue // an empty line is no row (csv and parseLines skip it)
		}
		// The key fields, then a count of the separators left.
		rest, seps := line, 0
		for f := 0; f < need; f++ {
			i := bytes.IndexByte(rest, sep)
			if i < 0 {
				fields[f], rest = rest, nil
				if f < need-1 {
					return false
				}
				break
			}
			fields[f], rest = rest[:i], rest[i+1:]
			seps++
		}
		if seps+bytes.Count(rest, []byte{sep}) != want {
			return false
		}
		var k []byte
		k, key = rowKey(key, fields, idx)
		fn(k)
	}
	return true
}

// rowKey is the key of a row of fields (idx: the key columns'), nil
// without key columns: the one key field, or the key columns joined as
// Parse joins them, in buf (returned, for reuse).
func rowKey(buf []byte, fields [][]byte, idx []int) (key, bufOut []byte) {
	switch len(idx) {
	case 0:
		return nil, buf
	case 1:
		return fields[idx[0]], buf
	}
	buf = buf[:0]
	for k, j := range idx {
		if k > 0 {
			buf = append(buf, keySep...)
		}
		buf = append(buf, fields[j]...)
	}
	return buf, buf
}

// FastFields reads the rows of data as Parse would, in FastRows' common
// case only (CSV or TSV with a header; for CSV no quote anywhere in data),
// calling fn with each row's fields, which are valid only during the
// call. It reports false at once, having called fn for no row, for
// anything else, or after some rows for a row whose field count is not
// the header's: Parse must then read data.
func (r *Reader) FastFields(h merge.Header, data []byte, fn func(fields [][]byte)) bool {
	return r.fastFields(h, data, func(_ int, fields [][]byte) { fn(fields) })
}

// FastRowFields is FastFields that also gives each row's line in data
// (from 1, as Parse counts) and key (as FastRows gives it).
func (r *Reader) FastRowFields(h merge.Header, data []byte, fn func(line int, key []byte, fields [][]byte)) bool {
	idx := r.keyIndexes(h.Cols)
	var buf []byte
	return r.fastFields(h, data, func(line int, fields [][]byte) {
		var key []byte
		key, buf = rowKey(buf, fields, idx)
		fn(line, key, fields)
	})
}

func (r *Reader) fastFields(h merge.Header, data []byte, fn func(line int, fields [][]byte)) bool {
	sep, ok := r.fastSep(h, data)
	if !ok {
		return false
	}
	fields := make([][]byte, len(h.Cols))
	for n := 1; len(data) > 0; n++ {
		var line []byte
		line, data = nextLine(data)
		if len(line) == 0 {
			continue // an empty line is no row (csv and parseLines skip it)
		}
		for f := range fields {
			i := bytes.IndexByte(line, sep)
			if i < 0 {
				if f != len(fields)-1 {
					return false
				}
				fields[f], line = line, nil
				break
			}
			if f == len(fields)-1 {
				return false // a separator too many
			}
			fields[f], line = line[:i], line[i+1:]
		}
		fn(n, fields)
	}
	return true
}

// fastSep is the field separator of the fast paths, if they can read
// data: CSV or TSV with a header, for CSV without a quote or a lone CR
// (every line is then a row).
func (r *Reader) fastSep(h merge.Header, data []byte) (byte, bool) {
	switch {
	case r.spec.Format == JSONL || len(h.Cols) == 0:
		return 0, false
	case r.spec.Format == TSV:
		return '\t', true
	}
	return r.d.Comma, bytes.IndexByte(data, r.d.Quote) < 0 && !hasLoneCR(data)
}

// nextLine splits the first line off data, without its line end.
func nextLine(data []byte) (line, rest []byte) {
	line = data
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		line, rest = data[:i], data[i+1:]
	}
	return trimCR(line), rest
}
