package contract

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dxdata/dx/merge"
)

// Type is a column's type.
type Type int

// Column types; TypeAny (no type given) checks no type.
const (
	TypeAny Type = iota
	TypeString
	TypeInt
	TypeFloat
	TypeDecimal
	TypeBool
	TypeDate
	TypeTimestamp
	TypeJSON
)

var typeNames = []string{"", "string", "int", "float", "decimal", "bool", "date", "timestamp", "json"}

func (t Type) String() string { return typeNames[t] }

func parseType(s string) (Type, error) {
	for i, n := range typeNames {
		if s == n {
			return Type(i), nil
		}
	}
	return 0, fmt.Errorf("type %q (want %s)", s, strings.Join(typeNames[1:], ", "))
}

// bound is a min or max, parsed in its column's type.
type bound struct {
	text string
	i    int64
	f    float64
	d    decimal
	t    time.Time
}

// bound parses a min or max for a column of type t.
func (t Type) bound(s string) (*bound, error) {
	b := &bound{text: s}
	var err error
	switch t {
	case TypeInt:
		b.i, err = strconv.ParseInt(s, 10, 64)
	case TypeFloat:
		b.f, err = parseFloat(s)
	case TypeDecimal:
		var ok bool
		if b.d, ok = parseDecimal(s); !ok {
			return nil, fmt.Errorf("%q is not a decimal", s)
		}
	case TypeDate, TypeTimestamp:
		b.t, err = t.parseTime(s)
	case TypeBool, TypeJSON:
		return nil, fmt.Errorf("a %s column has no order", t)
	}
	if err != nil {
		return nil, fmt.Errorf("%q is not a %s", s, t)
	}
	return b, nil
}

func parseFloat(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
		err = fmt.Errorf("not finite")
	}
	return f, err
}

func (t Type) parseTime(s string) (time.Time, error) {
	if t == TypeDate {
		return time.Parse(time.DateOnly, s)
	}
	return time.Parse(time.RFC3339Nano, s)
}

// Problem is one rule a row (or a header) breaks: the column, the rule
// ("required", "type int", "max 100", …) and the value as written.
type Problem struct {
	Column string `json:"column"`
	Rule   string `json:"rule"`
	Value  string `json:"value"`
}

func (p Problem) String() string {
	v := p.Value
	if len(v) > 80 {
		v = v[:77] + "..."
	}
	if v == "" {
		v = `""`
	}
	return fmt.Sprintf("%s: %s: %s", p.Column, p.Rule, v)
}

// Checker checks the rows of one table file against its contract.
type Checker struct {
	t    *Table
	json bool
	// schema: the file declares its columns though its values are JSON
	// (Parquet): Header checks them, and rows are not checked for unknown
	// columns one by one.
	schema bool
	byName map[string]*Column
	// absent: columns a CSV or TSV header lacks, reported once by Header.
	absent map[string]bool
	// at is where the contract's columns are in the last header rows
	// came with (CSV, TSV: every row of a file has its header's), so that
	// a row's values are not looked up by name. Rows are checked from
	// several goroutines: one may replace it, never change it.
	at atomic.Pointer[columnsAt]
}

// columnsAt are the positions of the contract's columns in cols (-1:
// not there).
type columnsAt struct {
	cols []string
	pos  []int
}

// positions are the contract's columns' positions in cols, cols being a
// header all rows of a file share (the same slice).
func (c *Checker) positions(cols []string) []int {
	if a := c.at.Load(); a != nil && len(a.cols) == len(cols) && (len(cols) == 0 || &a.cols[0] == &cols[0]) {
		return a.pos
	}
	a := &columnsAt{cols: cols, pos: make([]int, len(c.t.Columns))}
	for i, col := range c.t.Columns {
		a.pos[i] = slices.Index(cols, col.Name)
	}
	c.at.Store(a)
	return a.pos
}

// Checker is a checker for a file whose values are JSON texts (JSONL)
// or plain text (CSV, TSV).
func (t *Table) Checker(jsonValues bool) *Checker {
	c := &Checker{t: t, json: jsonValues, byName: map[string]*Column{}, absent: map[string]bool{}}
	for _, col := range t.Columns {
		c.byName[col.Name] = col
	}
	return c
}

// SchemaChecker is a checker for a file whose values are JSON texts and
// whose columns its schema declares (Parquet).
func (t *Table) SchemaChecker() *Checker {
	c := t.Checker(true)
	c.schema = true
	return c
}

// Header checks a CSV or TSV header, or a Parquet schema's columns: every
// column the contract names is there, and (refusing unknown columns) no
// other.
func (c *Checker) Header(cols []string) []Problem {
	if c.json && !c.schema {
		return nil // JSONL has no header: each row says its fields
	}
	var out []Problem
	have := map[string]bool{}
	for _, n := range cols {
		have[n] = true
		if c.t.Refuse && c.byName[n] == nil {
			out = append(out, Problem{Column: n, Rule: "unknown column", Value: n})
		}
	}
	for _, col := range c.t.Columns {
		if !have[col.Name] {
			c.absent[col.Name] = true
			out = append(out, Problem{Column: col.Name, Rule: "missing column", Value: ""})
		}
	}
	return out
}

// UniqueColumns are the columns whose values must not repeat.
func (c *Checker) UniqueColumns() []string {
	var out []string
	for _, col := range c.t.Columns {
		if col.Unique && !c.absent[col.Name] {
			out = append(out, col.Name)
		}
	}
	return out
}

// CountsRows reports whether the contract bounds the table's row count.
func (c *Checker) CountsRows() bool { return c.t.RowsMin >= 0 || c.t.RowsMax >= 0 }

// Rows checks the table's row count against its bounds.
func (c *Checker) Rows(n int64) []Problem {
	switch {
	case c.t.RowsMin >= 0 && n < c.t.RowsMin:
		return []Problem{{Column: RowsColumn, Rule: fmt.Sprintf("min %d", c.t.RowsMin), Value: strconv.FormatInt(n, 10)}}
	case c.t.RowsMax >= 0 && n > c.t.RowsMax:
		return []Problem{{Column: RowsColumn, Rule: fmt.Sprintf("max %d", c.t.RowsMax), Value: strconv.FormatInt(n, 10)}}
	}
	return nil
}

// RowsColumn names the table's row count in a Problem.
const RowsColumn = "(rows)"

// Row appends to dst the rules row breaks, in the contract's column order.
func (c *Checker) Row(r merge.Row, dst []Problem) []Problem {
	if c.json && !c.schema && c.t.Refuse {
		for _, n := range r.Cols {
			if c.byName[n] == nil {
				dst = append(dst, Problem{Column: n, Rule: "unknown column", Value: n})
			}
		}
	}
	var pos []int
	if !c.json {
		pos = c.positions(r.Cols)
	}
	for i, col := range c.t.Columns {
		if len(c.absent) > 0 && c.absent[col.Name] {
			continue
		}
		var raw string
		var ok bool
		if pos != nil {
			if ok = pos[i] >= 0 && pos[i] < len(r.Vals); ok {
				raw = r.Vals[pos[i]]
			}
		} else {
			raw, ok = r.Value(col.Name)
		}
		if p, bad := c.value(col, raw, ok); bad {
			dst = append(dst, p)
		}
	}
	return dst
}

// value checks one value (ok: the row has the column).
func (c *Checker) value(col *Column, raw string, ok bool) (Problem, bool) {
	text, kind := raw, byte(0)
	null := !ok || raw == ""
	if c.json && ok && raw != "" {
		text, kind, null = jsonValue(raw)
	}
	bad := func(rule string) (Problem, bool) { return Problem{Column: col.Name, Rule: rule, Value: raw}, true }
	if null {
		if col.Required {
			return bad("required")
		}
		return Problem{}, false
	}
	v, ok := c.typed(col.Type, text, kind)
	if !ok {
		return bad("type " + col.Type.String())
	}
	if col.Min != nil && col.Type.compare(&v, col.Min) < 0 {
		return bad("min " + col.Min.text)
	}
	if col.Max != nil && col.Type.compare(&v, col.Max) > 0 {
		return bad("max " + col.Max.text)
	}
	if col.Allowed != nil && !col.Allowed[text] {
		return bad("allowed " + strings.Join(col.allowed, ","))
	}
	if col.Regex != nil && !col.Regex.MatchString(text) {
		return bad("regex")
	}
	return Problem{}, false
}

// jsonValue is a JSONL row's raw value as text (a string's decoded), its
// kind ('s', 'b', 'o', 'n') and whether it is null or empty.
func jsonValue(raw string) (text string, kind byte, null bool) {
	switch {
	case raw == "null", raw == `""`: // required: neither null nor empty
		return raw, 0, true
	case raw[0] == '"':
		if err := json.Unmarshal([]byte(raw), &text); err != nil {
			text = raw
		}
		return text, 's', false
	case raw == "true" || raw == "false":
		return raw, 'b', false
	case raw[0] == '{' || raw[0] == '[':
		return raw, 'o', false
	}
	return raw, 'n', false
}

// typed parses a value of type t (kind: its JSON kind, 0 for text).
func (c *Checker) typed(t Type, text string, kind byte) (bound, bool) {
	var err error
	b := bound{text: text}
	wantKind := func(k byte) bool { return !c.json || kind == k }
	switch t {
	case TypeAny, TypeString:
		return b, t == TypeAny || wantKind('s')
	case TypeJSON:
		return b, c.json || json.Valid([]byte(text))
	case TypeBool:
		return b, wantKind('b') && (c.json || text == "true" || text == "false")
	case TypeInt:
		if !wantKind('n') {
			return b, false
		}
		b.i, err = strconv.ParseInt(text, 10, 64)
	case TypeFloat:
		if !wantKind('n') {
			return b, false
		}
		b.f, err = parseFloat(text)
	case TypeDecimal:
		var ok bool
		if b.d, ok = parseDecimal(text); !ok || !wantKind('n') && !(c.json && kind == 's') {
			return b, false
		}
	case TypeDate, TypeTimestamp:
		if !wantKind('s') {
			return b, false
		}
		b.t, err = t.parseTime(text)
	}
	return b, err == nil
}

// compare orders two values of type t.
func (t Type) compare(a, b *bound) int {
	switch t {
	case TypeInt:
		return cmpOrdered(a.i, b.i)
	case TypeFloat:
		return cmpOrdered(a.f, b.f)
	case TypeDecimal:
		return a.d.compare(b.d)
	case TypeDate, TypeTimestamp:
		return a.t.Compare(b.t)
	}
	return strings.Compare(a.text, b.text)
}

func cmpOrdered[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// decimal is a decimal number as written, for exact comparison: its
// sign and its digits before and after the point, without the zeros that
// do not count.
type decimal struct {
	neg         bool
	whole, frac string
}

// parseDecimal reads [+-]digits[.digits] (either side of the point may
// be empty, not both).
func parseDecimal(s string) (decimal, bool) {
	var d decimal
	if s != "" && (s[0] == '+' || s[0] == '-') {
		d.neg, s = s[0] == '-', s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || !digits(whole) || !digits(frac) {
		return d, false
	}
	d.whole, d.frac = strings.TrimLeft(whole, "0"), strings.TrimRight(frac, "0")
	if d.whole == "" && d.frac == "" {
		d.neg = false // -0 is 0
	}
	return d, true
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (a decimal) compare(b decimal) int {
	if a.neg != b.neg {
		if a.neg {
			return -1
		}
		return 1
	}
	c := cmpOrdered(int64(len(a.whole)), int64(len(b.whole)))
	if c == 0 {
		c = strings.Compare(a.whole, b.whole)
	}
	if c == 0 {
		c = strings.Compare(a.frac, b.frac) // both without trailing zeros
	}
	if a.neg {
		return -c
	}
	return c
}
