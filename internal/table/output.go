package table

import (
	"bufio"
	"encoding/json"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/dxdata/dx/internal/csvdialect"
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
func (r OrderedRow) MarshalJSON() ([]byte, error) { return r.appendJSON(nil), nil }

func (r OrderedRow) appendJSON(b []byte) []byte {
	b = append(b, '{')
	for i, c := range r.Cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, c)
		b = append(b, ':')
		if r.JSON {
			b = append(b, r.Vals[i]...)
		} else {
			b = appendJSONString(b, r.Vals[i])
		}
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, as encoding/json writes it
// with HTML escaping off (invalid UTF-8 becomes U+FFFD).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
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
	return &OrderedRow{Cols: r.Cols, Vals: r.Vals, JSON: s.Format.JSONValues()}
}

// ChangeJSON converts one row change for JSON output.
func (s Spec) ChangeJSON(path string, c merge.RowChange) RowChangeJSON {
	return RowChangeJSON{Path: path, Change: string(c.Kind), Key: s.KeyParts(c.Key), Old: s.row(c.Old), New: s.row(c.New), Columns: c.Columns}
}

// AppendJSONL appends one changed row as a line of JSON (the fields of
// RowChangeJSON, written without reflection: deltas can be millions of
// rows).
func (s Spec) AppendJSONL(b []byte, path string, c merge.RowChange) []byte {
	b = append(b, '{')
	if path != "" {
		b = append(b, `"path":`...)
		b = appendJSONString(b, path)
		b = append(b, ',')
	}
	b = append(b, `"change":`...)
	b = appendJSONString(b, string(c.Kind))
	if parts := s.KeyParts(c.Key); parts != nil {
		b = append(b, `,"key":[`...)
		for i, p := range parts {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, p)
		}
		b = append(b, ']')
	}
	if c.Old != nil {
		b = append(b, `,"old":`...)
		b = s.row(c.Old).appendJSON(b)
	}
	if c.New != nil {
		b = append(b, `,"new":`...)
		b = s.row(c.New).appendJSON(b)
	}
	if len(c.Columns) > 0 {
		b = append(b, `,"columns":[`...)
		for i, col := range c.Columns {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, col)
		}
		b = append(b, ']')
	}
	return append(b, '}', '\n')
}

// WriteJSONL writes one JSON object per changed row.
func (s Spec) WriteJSONL(w io.Writer, path string, d *merge.RowDiff) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	var line []byte
	for _, c := range d.Changes {
		line = s.AppendJSONL(line[:0], path, c)
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// CSVWriter writes row changes as CSV: _path and _change columns, then the
// table's columns. A changed row is two lines, _change "old" and "new".
// When a table's columns differ from the previous one's, a new header line
// is written first.
type CSVWriter struct {
	w    *csvdialect.Writer
	cols []string
}

// NewCSVWriter returns a CSVWriter on w (it buffers: Flush).
func NewCSVWriter(w io.Writer) *CSVWriter {
	return &CSVWriter{w: csvdialect.NewWriter(w, csvdialect.Default)}
}

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
			if s.Format.JSONValues() {
				v = csvText(s.Format, v)
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

// JSONText turns a JSON value as a JSONL row holds it (canonical JSON)
// into its text: a string's text; other values stay JSON.
func JSONText(v string) string { return jsonText(v) }

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
