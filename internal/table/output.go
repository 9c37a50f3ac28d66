package table

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"strings"

	"github.com/dxdata/dx/merge"
)

// OrderedRow is a row as a JSON object with its columns in file order.
// Values of JSONL rows are written as the JSON they are; CSV/TSV values as
// strings.
type OrderedRow struct {
	Cols []string
	Vals []string
	JSON bool
}

// MarshalJSON implements json.Marshaler.
func (r OrderedRow) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, c := range r.Cols {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := marshal(c)
		b.Write(k)
		b.WriteByte(':')
		if r.JSON {
			b.WriteString(r.Vals[i])
		} else {
			v, _ := marshal(r.Vals[i])
			b.Write(v)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func marshal(s string) ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(s); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// RowChangeJSON is one changed row in JSON output.
type RowChangeJSON struct {
	Path    string      `json:"path,omitempty"`
	Change  string      `json:"change"`
	Key     []string    `json:"key,omitempty"`
	Old     *OrderedRow `json:"old,omitempty"`
	New     *OrderedRow `json:"new,omitempty"`
	Columns []string    `json:"columns,omitempty"`
}

// KeyParts splits a row key into its columns' values (nil when the table
// has no key).
func (s Spec) KeyParts(key string) []string {
	if len(s.Key) == 0 {
		return nil
	}
	return strings.Split(key, keySep)
}

// ShowKey is a key for people: col=value pairs.
func (s Spec) ShowKey(key string) string {
	parts := s.KeyParts(key)
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = s.Key[i] + "=" + p
	}
	return strings.Join(out, " ")
}

func (s Spec) row(r *merge.Row) *OrderedRow {
	if r == nil {
		return nil
	}
	return &OrderedRow{Cols: r.Cols, Vals: r.Vals, JSON: s.Format == JSONL}
}

// ChangeJSON converts one row change for JSON output.
func (s Spec) ChangeJSON(path string, c merge.RowChange) RowChangeJSON {
	return RowChangeJSON{Path: path, Change: string(c.Kind), Key: s.KeyParts(c.Key), Old: s.row(c.Old), New: s.row(c.New), Columns: c.Columns}
}

// WriteJSONL writes one JSON object per changed row.
func (s Spec) WriteJSONL(w io.Writer, path string, d *merge.RowDiff) error {
	e := json.NewEncoder(w)
	e.SetEscapeHTML(false)
	for _, c := range d.Changes {
		if err := e.Encode(s.ChangeJSON(path, c)); err != nil {
			return err
		}
	}
	return nil
}

// CSVWriter writes row changes as CSV: _path and _change columns, then the
// table's columns. A changed row is two lines, _change "old" and "new".
// When a table's columns differ from the previous one's, a new header line
// is written first.
type CSVWriter struct {
	w    *csv.Writer
	cols []string
}

// NewCSVWriter returns a CSVWriter on w.
func NewCSVWriter(w io.Writer) *CSVWriter { return &CSVWriter{w: csv.NewWriter(w)} }

// Write writes the changes of one table read as s.
func (cw *CSVWriter) Write(path string, s Spec, d *merge.RowDiff) error {
	cols := d.NewHeader.Cols
	if len(cols) == 0 {
		cols = d.OldHeader.Cols
	}
	if cols == nil {
		// JSONL: the union of the rows' fields, in first-seen order.
		seen := map[string]bool{}
		for _, c := range d.Changes {
			for _, r := range []*merge.Row{c.Old, c.New} {
				if r == nil {
					continue
				}
				for _, n := range r.Cols {
					if !seen[n] {
						seen[n] = true
						cols = append(cols, n)
					}
				}
			}
		}
	}
	if cw.cols == nil || !equal(cw.cols, cols) {
		if err := cw.w.Write(append([]string{"_path", "_change"}, cols...)); err != nil {
			return err
		}
		cw.cols = cols
	}
	rec := make([]string, 2+len(cols))
	put := func(kind string, r *merge.Row) error {
		rec[0], rec[1] = path, kind
		for i, c := range cols {
			v, _ := r.Value(c)
			if s.Format == JSONL {
				v = jsonText(v)
			}
			rec[2+i] = v
		}
		return cw.w.Write(rec)
	}
	for _, c := range d.Changes {
		var err error
		switch c.Kind {
		case merge.RowAdded:
			err = put("added", c.New)
		case merge.RowRemoved:
			err = put("removed", c.Old)
		default:
			if err = put("old", c.Old); err == nil {
				err = put("new", c.New)
			}
		}
		if err != nil {
			return err
		}
	}
	cw.w.Flush()
	return cw.w.Error()
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// jsonText turns a JSON string value into its text; other values stay JSON.
func jsonText(v string) string {
	if strings.HasPrefix(v, `"`) {
		var s string
		if json.Unmarshal([]byte(v), &s) == nil {
			return s
		}
	}
	return v
}
