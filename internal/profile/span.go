package profile

import (
	"strings"

	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
)

// spanProfiler profiles the rows of one span.
type spanProfiler struct {
	rows   int64
	byCol  []*acc          // CSV and TSV: by the header's index
	byName map[string]*acc // JSONL
	order  []*acc          // JSONL: in order of first appearance
	exact  bool            // see acc.exact
}

func newSpanProfiler(h merge.Header) *spanProfiler {
	sp := &spanProfiler{byName: map[string]*acc{}}
	for _, c := range h.Cols {
		sp.byCol = append(sp.byCol, newAcc(c))
	}
	return sp
}

// newExactProfiler is a spanProfiler that counts exactly (see
// acc.exact).
func newExactProfiler(h merge.Header) *spanProfiler {
	sp := newSpanProfiler(h)
	sp.exact = true
	for _, a := range sp.byCol {
		a.exact = true
	}
	return sp
}

// reset readies sp for another span, keeping its memory.
func (sp *spanProfiler) reset() {
	sp.rows = 0
	for _, a := range sp.byCol {
		a.reset()
	}
	clear(sp.byName)
	sp.order = sp.order[:0]
}

// profileSpan profiles data, a span's rows (past the header), read by
// the table reader: its fast path where it can, else Parse. sp (for h)
// is reused.
func profileSpan(rd *table.Reader, sp *spanProfiler, h merge.Header, data []byte, atEOF bool) (*Profile, error) {
	sp.reset()
	if rd.FastFields(h, data, sp.fields) {
		return sp.profile(), nil
	}
	sp.reset() // FastFields may have read some rows
	jsonl := rd.Spec().Format == table.JSONL
	err := rd.Parse(h, data, atEOF, func(row merge.Row) error {
		sp.rows++
		if !jsonl {
			for i, v := range row.Vals {
				if v != "" {
					sp.byCol[i].add(stringBytes(v), allKinds)
				}
			}
			return nil
		}
		for i, col := range row.Cols {
			sp.jsonValue(col, row.Vals[i])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sp.profile(), nil
}

// fields counts one row's fields.
func (sp *spanProfiler) fields(fs [][]byte) {
	sp.rows++
	for i, v := range fs {
		if len(v) > 0 {
			sp.byCol[i].add(v, allKinds)
		}
	}
}

// jsonValue counts a JSONL row's value (canonical JSON) of column col:
// null and "" are nulls, a string counts as its text (which may be a
// date or timestamp, never a number), an object or array as JSON text.
func (sp *spanProfiler) jsonValue(col, v string) {
	a := sp.byName[col]
	if a == nil {
		a = newAcc(col)
		a.exact = sp.exact
		sp.byName[col] = a
		sp.order = append(sp.order, a)
	}
	switch {
	case v == "null" || v == `""`:
		return
	case v[0] == '"':
		if strings.IndexByte(v, '\\') < 0 {
			v = v[1 : len(v)-1]
		} else {
			v = table.JSONText(v)
		}
		a.add(stringBytes(v), KindDate|KindTimestamp)
	case v[0] == '{' || v[0] == '[':
		a.add(stringBytes(v), 0)
	default:
		a.add(stringBytes(v), allKinds)
	}
}

// profile is the span's profile.
func (sp *spanProfiler) profile() *Profile {
	p := &Profile{Rows: sp.rows}
	for _, a := range sp.byCol {
		p.Columns = append(p.Columns, a.column())
	}
	for _, a := range sp.order {
		p.Columns = append(p.Columns, a.column())
	}
	return p
}
