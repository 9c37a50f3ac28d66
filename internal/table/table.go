// Package table reads tabular files (CSV, TSV, JSONL) for the row-level
// diff and merge: which files are tables (.dxattributes), their headers,
// their rows and keys. It implements merge.Table.
package table

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dxdata/dx/internal/csvdialect"
	"github.com/dxdata/dx/merge"
)

// Format is a table file format.
type Format string

// Formats.
const (
	CSV   Format = "csv"
	TSV   Format = "tsv"
	JSONL Format = "jsonl"
	// Parquet files are stored cut at their pages; their rows are not
	// read yet (Attributes.Table does not report them).
	Parquet Format = "parquet"
)

// ParseFormat checks a format name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case CSV, TSV, JSONL, Parquet:
		return f, nil
	}
	return "", fmt.Errorf("unknown table format %q (known: csv, tsv, jsonl, parquet)", s)
}

const keySep = merge.KeySep

var bom = []byte("\uFEFF")

// Reader reads tables of one Spec. It implements merge.Table and
// merge.RowEnder. A CSV is read in its spec's dialect (csvdialect).
type Reader struct {
	spec Spec
	d    csvdialect.Dialect
}

// New returns a Reader for spec.
func New(spec Spec) *Reader { return &Reader{spec: spec, d: spec.CSVDialect()} }

var (
	_ merge.Table    = (*Reader)(nil)
	_ merge.RowEnder = (*Reader)(nil)
)

// RowEnd implements merge.RowEnder: past the first '\n' at or after p
// outside a quoted field (a line end for TSV and JSONL).
func (r *Reader) RowEnd(data []byte, p int) int {
	if r.spec.Format == CSV {
		return r.d.RowEnd(data, p)
	}
	if i := bytes.IndexByte(data[p:], '\n'); i >= 0 {
		return p + i + 1
	}
	return -1
}

// Keyed implements merge.Table.
func (r *Reader) Keyed() bool { return len(r.spec.Key) > 0 }

// Quoted implements merge.Table.
func (r *Reader) Quoted() bool { return r.spec.Format == CSV }

// Spec returns the reader's spec.
func (r *Reader) Spec() Spec { return r.spec }

// Header implements merge.Table.
func (r *Reader) Header(first []byte, atEOF bool) (merge.Header, int, error) {
	n := 0
	if bytes.HasPrefix(first, bom) {
		n = len(bom)
	}
	if r.spec.Format == JSONL {
		return merge.Header{}, n, nil
	}
	body := first[n:]
	if len(body) == 0 {
		return merge.Header{}, n, nil // empty table
	}
	var cols []string
	if r.spec.Format == CSV {
		if err := r.d.Validate(); err != nil {
			return merge.Header{}, 0, &merge.LineError{Line: 1, Err: err}
		}
		rec, end, ok := r.firstRecord(body, atEOF)
		if !ok {
			return merge.Header{}, 0, merge.ErrMisaligned
		}
		if r.spec.NoHeader {
			cols = make([]string, len(rec))
			for i := range cols {
				cols[i] = strconv.Itoa(i + 1)
			}
			end = 0
		} else {
			cols = rec
		}
		n += end
	} else {
		end := bytes.IndexByte(body, '\n') + 1
		if end == 0 {
			if !atEOF {
				return merge.Header{}, 0, merge.ErrMisaligned
			}
			end = len(body)
		}
		cols = strings.Split(strings.TrimSuffix(strings.TrimSuffix(string(body[:end]), "\n"), "\r"), "\t")
		n += end
	}
	seen := map[string]bool{}
	for _, c := range cols {
		if seen[c] {
			return merge.Header{}, 0, &merge.LineError{Line: 1, Err: fmt.Errorf("column %q appears twice in the header", c)}
		}
		seen[c] = true
	}
	for _, k := range r.spec.Key {
		if !seen[k] {
			return merge.Header{}, 0, &merge.LineError{Line: 1, Err: fmt.Errorf("key column %q is not in the header (%s)", k, strings.Join(cols, ", "))}
		}
	}
	return merge.Header{Cols: cols, Implicit: r.spec.NoHeader}, n, nil
}

// firstRecord reads a CSV's first record that is not an empty line: its
// fields and the offset past it. ok is false when b may not hold it whole
// (unless atEOF); an empty file's record has no fields.
func (r *Reader) firstRecord(b []byte, atEOF bool) (rec []string, end int, ok bool) {
	for end < len(b) {
		rec, end, ok = r.d.Record(b, end, atEOF, rec)
		if !ok || len(rec) > 0 {
			return rec, end, ok
		}
	}
	return nil, end, true
}

// headerLen is the length of a CSV's header at the start of b (after a
// byte order mark), 0 without one, or -1 if b does not hold it whole.
func (r *Reader) headerLen(b []byte) int {
	if r.spec.NoHeader {
		return 0
	}
	_, end, ok := r.firstRecord(b, false)
	if !ok {
		return -1
	}
	return end
}

// Parse implements merge.Table.
func (r *Reader) Parse(h merge.Header, data []byte, atEOF bool, fn func(merge.Row) error) error {
	if !atEOF && len(data) > 0 && data[len(data)-1] != '\n' {
		return merge.ErrMisaligned
	}
	switch r.spec.Format {
	case CSV:
		return r.parseCSV(h, data, atEOF, fn)
	case TSV:
		idx := r.keyIndexes(h.Cols)
		return r.parseLines(data, func(line []byte, n int, off, end int64) error {
			return r.tsvRow(h, idx, line, n, func(row merge.Row) error { row.Off, row.End = off, end; return fn(row) })
		})
	default:
		return r.parseLines(data, func(line []byte, n int, off, end int64) error {
			return r.jsonRow(line, n, func(row merge.Row) error { row.Off, row.End = off, end; return fn(row) })
		})
	}
}

func (r *Reader) keyIndexes(cols []string) []int {
	idx := make([]int, len(r.spec.Key))
	for i, k := range r.spec.Key {
		idx[i] = slices.Index(cols, k)
	}
	return idx
}

func joinKey(vals []string, idx []int) string {
	if len(idx) == 1 {
		return vals[idx[0]]
	}
	var b strings.Builder
	for i, j := range idx {
		if i > 0 {
			b.WriteString(keySep)
		}
		b.WriteString(vals[j])
	}
	return b.String()
}

func wholeKey(vals []string) string { return strings.Join(vals, keySep) }

func (r *Reader) parseCSV(h merge.Header, data []byte, atEOF bool, fn func(merge.Row) error) error {
	idx := r.keyIndexes(h.Cols)
	line := 1
	var rec []string
	for p := 0; p < len(data); {
		var end int
		var ok bool
		// Each row's fields in a slice of their own (callers keep rows),
		// of the header's width: one allocation, not one per doubling.
		rec, end, ok = r.d.Record(data, p, atEOF, make([]string, 0, max(len(h.Cols), 1)))
		if !ok {
			return fmt.Errorf("%w: line %d: the row goes on past these bytes", merge.ErrMisaligned, line)
		}
		start := line
		line += lineEnds(data[p:end])
		if len(rec) == 0 {
			p = end
			continue // an empty line is no row
		}
		if len(h.Cols) > 0 && len(rec) != len(h.Cols) {
			return &merge.LineError{Line: start, Err: fmt.Errorf("wrong number of fields: %d, the header has %d", len(rec), len(h.Cols))}
		}
		row := merge.Row{Cols: h.Cols, Vals: rec, Line: start, Off: int64(p), End: int64(end)}
		if len(idx) > 0 {
			row.Key = joinKey(rec, idx)
		} else {
			row.Key = wholeKey(rec)
		}
		if err := fn(row); err != nil {
			return err
		}
		p = end
	}
	return nil
}

// lineEnds counts the line ends in b: LF, CRLF and a lone CR.
func lineEnds(b []byte) int {
	n := bytes.Count(b, []byte{'\n'})
	for i := bytes.IndexByte(b, '\r'); i >= 0; {
		if i+1 == len(b) || b[i+1] != '\n' {
			n++
		}
		j := bytes.IndexByte(b[i+1:], '\r')
		if j < 0 {
			break
		}
		i += j + 1
	}
	return n
}

// parseLines calls fn for every non-empty line of data (CRLF or LF).
func (r *Reader) parseLines(data []byte, fn func(line []byte, n int, off, end int64) error) error {
	n := 0
	pos := 0
	for pos < len(data) {
		n++
		start := pos
		i := bytes.IndexByte(data[pos:], '\n')
		var line []byte
		if i < 0 {
			line, pos = data[pos:], len(data)
		} else {
			line, pos = data[pos:pos+i], pos+i+1
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 {
			continue
		}
		if err := fn(line, n, int64(start), int64(pos)); err != nil {
			return err
		}
	}
	return nil
}

func (r *Reader) tsvRow(h merge.Header, idx []int, line []byte, n int, fn func(merge.Row) error) error {
	vals := strings.Split(string(line), "\t")
	if len(h.Cols) > 0 && len(vals) != len(h.Cols) {
		return &merge.LineError{Line: n, Err: fmt.Errorf("%d fields, the header has %d", len(vals), len(h.Cols))}
	}
	row := merge.Row{Cols: h.Cols, Vals: vals, Line: n}
	if len(idx) > 0 {
		row.Key = joinKey(vals, idx)
	} else {
		row.Key = wholeKey(vals)
	}
	return fn(row)
}

func (r *Reader) jsonRow(line []byte, n int, fn func(merge.Row) error) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		return &merge.LineError{Line: n, Err: fmt.Errorf("not a JSON object: %v", err)}
	}
	if obj == nil {
		return &merge.LineError{Line: n, Err: errors.New("not a JSON object: null")}
	}
	if members(line) != len(obj) {
		return &merge.LineError{Line: n, Err: fmt.Errorf("field %q appears twice", repeatedField(line))}
	}
	cols := make([]string, 0, len(obj))
	for k := range obj {
		cols = append(cols, k)
	}
	slices.Sort(cols)
	vals := make([]string, len(cols))
	for i, c := range cols {
		v, err := canonicalJSON(obj[c])
		if err != nil {
			return &merge.LineError{Line: n, Err: fmt.Errorf("field %q: %v", c, err)}
		}
		vals[i] = v
	}
	row := merge.Row{Cols: cols, Vals: vals, Line: n}
	if r.Keyed() {
		parts := make([]string, len(r.spec.Key))
		for i, k := range r.spec.Key {
			j := slices.Index(cols, k)
			if j < 0 {
				return &merge.LineError{Line: n, Err: fmt.Errorf("no key field %q", k)}
			}
			parts[i] = jsonText(vals[j])
		}
		row.Key = strings.Join(parts, keySep)
	} else {
		var b strings.Builder
		for i, c := range cols {
			if i > 0 {
				b.WriteString(keySep)
			}
			b.WriteString(c)
			b.WriteByte('=')
			b.WriteString(vals[i])
		}
		row.Key = b.String()
	}
	return fn(row)
}

// members counts the members of the JSON object on line (valid JSON): the
// colons outside strings at depth one. json.Unmarshal keeps the last of a
// repeated field and drops the others without a word.
func members(line []byte) int {
	n, depth := 0, 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '"':
			for i++; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case ':':
			if depth == 1 {
				n++
			}
		}
	}
	return n
}

// repeatedField names the first field of the JSON object on line that
// appears twice.
func repeatedField(line []byte) string {
	d := json.NewDecoder(bytes.NewReader(line))
	seen := map[string]bool{}
	if _, err := d.Token(); err != nil { // {
		return ""
	}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return ""
		}
		name, _ := t.(string)
		if seen[name] {
			return name
		}
		seen[name] = true
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			return ""
		}
	}
	return ""
}

// canonicalJSON returns one spelling of a JSON value: compact, object keys
// sorted, numbers as written.
func canonicalJSON(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && (raw[0] == '{' || raw[0] == '[') {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			return "", err
		}
		var b bytes.Buffer
		e := json.NewEncoder(&b)
		e.SetEscapeHTML(false)
		if err := e.Encode(v); err != nil {
			return "", err
		}
		return strings.TrimSuffix(b.String(), "\n"), nil
	}
	return string(raw), nil
}

// AppendRow implements merge.Table.
func (r *Reader) AppendRow(dst []byte, h merge.Header, row *merge.Row, eol string) []byte {
	switch r.spec.Format {
	case JSONL:
		dst = OrderedRow{Cols: row.Cols, Vals: row.Vals, JSON: true}.appendJSON(dst)
	case TSV:
		for i, c := range h.Cols {
			if i > 0 {
				dst = append(dst, '\t')
			}
			v, _ := row.Value(c)
			dst = append(dst, v...)
		}
	default:
		for i, c := range h.Cols {
			if i > 0 {
				dst = append(dst, r.d.Comma)
			}
			v, _ := row.Value(c)
			dst = r.d.AppendField(dst, v, len(h.Cols))
		}
	}
	return append(dst, eol...)
}
