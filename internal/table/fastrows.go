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
	var key []byte
	want := len(h.Cols) - 1 // separators in a row
	var fields [][2]int
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
		if bytes.Count(line, []byte{sep}) != want {
			return false
		}
		if len(idx) == 0 {
			fn(nil)
			continue
		}
		fields = fields[:0]
		start := 0
		for i := 0; i <= len(line); i++ {
			if i == len(line) || line[i] == sep {
				fields = append(fields, [2]int{start, i})
				start = i + 1
			}
		}
		key = key[:0]
		for k, j := range idx {
			if k > 0 {
				key = append(key, keySep...)
			}
			key = append(key, line[fields[j][0]:fields[j][1]]...)
		}
		fn(key)
	}
	return true
}
