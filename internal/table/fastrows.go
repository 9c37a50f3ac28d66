package table

import (
	"bytes"

	"github.com/dxdata/dx/merge"
)

// FastRows reads the rows of data as Parse would, for the common case
// only: CSV or TSV with a header, and for CSV no quote anywhere in data
// (every row is then one line, split at the separator). It calls fn with
// each row's key (the key columns joined as Parse joins them; nil for a
// table without a key: the key is then the row) and reports true; or it
// reports false at once, having called fn for some rows, for anything
// else (Parse must then read data: a quote, a row with the wrong number
// of fields, JSONL). A key passed to fn is valid only during the call.
// data starts at a row boundary and ends at one (or at the end of the
// file).
func (r *Reader) FastRows(h merge.Header, data []byte, fn func(key []byte)) bool {
	if r.spec.Format == JSONL || len(h.Cols) == 0 {
		return false
	}
	sep := byte('\t')
	if r.spec.Format == CSV {
		if bytes.IndexByte(data, '"') >= 0 {
			return false
		}
		sep = ','
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
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = trimCR(line)
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
		if len(idx) == 0 {
			fn(nil)
			continue
		}
		if len(idx) == 1 {
			fn(fields[idx[0]])
			continue
		}
		key = key[:0]
		for k, j := range idx {
			if k > 0 {
				key = append(key, keySep...)
			}
			key = append(key, fields[j]...)
		}
		fn(key)
	}
	return true
}
