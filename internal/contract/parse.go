package contract

import (
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strings"

	gitignore "github.com/sabhiram/go-gitignore"
	"go.yaml.in/yaml/v3"
)

// File is the contract file at the worktree root.
const File = "dx.contract.yaml"

// Contract is a parsed contract file: rules by table path or pattern.
type Contract struct {
	tables []*Table
}

// Table is the contract of the tables one entry's path matches.
type Table struct {
	Path    string // the entry's path or pattern
	Line    int    // of the entry in the file
	Refuse  bool   // unknown columns are refused
	Columns []*Column
	// RowsMin and RowsMax bound the table's row count; -1: no bound.
	RowsMin, RowsMax int64
	match            *gitignore.GitIgnore
	pattern          bool
}

// Column is the rules of one column.
type Column struct {
	Name     string
	Line     int
	Type     Type
	Required bool
	Min, Max *bound
	Allowed  map[string]bool
	allowed  []string // as written, for messages
	Regex    *Regex
	Unique   bool // no two rows have the same value (nulls aside)
	// Drift bounds how far the column may drift between versions (dx
	// drift); a nil bound takes the default.
	Drift DriftThresholds
}

// DriftThresholds are a column's drift bounds as written; nil: not given.
type DriftThresholds struct {
	PSI   *float64 `yaml:"psi"`
	KS    *float64 `yaml:"ks"`
	Nulls *float64 `yaml:"nulls"`
}

// entry is a table's entry as written.
type entry struct {
	Path           string      `yaml:"path"`
	UnknownColumns string      `yaml:"unknown_columns"`
	Columns        []yaml.Node `yaml:"columns"`
	Rows           yaml.Node   `yaml:"rows"`
}

// rowBounds are a table's row-count bounds as written.
type rowBounds struct {
	Min *int64 `yaml:"min"`
	Max *int64 `yaml:"max"`
}

// column is a column's rules as written.
type column struct {
	Name     string    `yaml:"name"`
	Type     string    `yaml:"type"`
	Required bool      `yaml:"required"`
	Min      yaml.Node `yaml:"min"`
	Max      yaml.Node `yaml:"max"`
	Allowed  []string  `yaml:"allowed"`
	Regex    string    `yaml:"regex"`
	Unique   bool      `yaml:"unique"`
	Drift    yaml.Node `yaml:"drift"`
}

// Parse reads a contract file; name is used in errors, which are one
// line naming the file and the line.
func Parse(r io.Reader, name string) (*Contract, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(r).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &Contract{}, nil
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if l, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(l, "line ") {
			return nil, fmt.Errorf("%s:%s: %s", name, strings.TrimPrefix(l, "line "), rest)
		}
		return nil, fmt.Errorf("%s: %s", name, msg)
	}
	var top struct {
		Tables []yaml.Node `yaml:"tables"`
	}
	if err := decodeStrict(&doc, &top); err != nil {
		return nil, fmt.Errorf("%s:%w", name, err)
	}
	c := &Contract{}
	for i := range top.Tables {
		t, err := parseTable(&top.Tables[i])
		if err != nil {
			return nil, fmt.Errorf("%s:%w", name, err)
		}
		c.tables = append(c.tables, t)
	}
	return c, nil
}

func parseTable(n *yaml.Node) (*Table, error) {
	var e entry
	if err := decodeStrict(n, &e); err != nil {
		return nil, err
	}
	t := &Table{Path: e.Path, Line: n.Line, RowsMin: -1, RowsMax: -1}
	if e.Rows.Kind != 0 {
		var rb rowBounds
		if err := decodeStrict(&e.Rows, &rb); err != nil {
			return nil, err
		}
		if rb.Min != nil {
			t.RowsMin = *rb.Min
		}
		if rb.Max != nil {
			t.RowsMax = *rb.Max
		}
		if rb.Min != nil && *rb.Min < 0 || rb.Max != nil && (*rb.Max < 0 || *rb.Max < t.RowsMin) {
			return nil, lineErr(e.Rows.Line, "rows: want 0 ≤ min ≤ max")
		}
	}
	switch e.UnknownColumns {
	case "", "allow":
	case "refuse":
		t.Refuse = true
	default:
		return nil, lineErr(n.Line, "unknown_columns: %q (want allow or refuse)", e.UnknownColumns)
	}
	if e.Path == "" {
		return nil, lineErr(n.Line, "a table without a path")
	}
	t.pattern = strings.ContainsAny(e.Path, "*?[")
	t.match = gitignore.CompileIgnoreLines(e.Path)
	seen := map[string]bool{}
	for i := range e.Columns {
		col, err := parseColumn(&e.Columns[i])
		if err != nil {
			return nil, err
		}
		if seen[col.Name] {
			return nil, lineErr(col.Line, "column %q appears twice", col.Name)
		}
		seen[col.Name] = true
		t.Columns = append(t.Columns, col)
	}
	return t, nil
}

func parseColumn(n *yaml.Node) (*Column, error) {
	var raw column
	if err := decodeStrict(n, &raw); err != nil {
		return nil, err
	}
	col := &Column{Name: raw.Name, Line: n.Line, Required: raw.Required, allowed: raw.Allowed, Unique: raw.Unique}
	if raw.Name == "" {
		return nil, lineErr(n.Line, "a column without a name")
	}
	typ, err := parseType(raw.Type)
	if err != nil {
		return nil, lineErr(n.Line, "column %s: %v", raw.Name, err)
	}
	col.Type = typ
	for _, b := range []struct {
		node *yaml.Node
		dst  **bound
		rule string
	}{{&raw.Min, &col.Min, "min"}, {&raw.Max, &col.Max, "max"}} {
		if b.node.Kind == 0 {
			continue
		}
		if b.node.Kind != yaml.ScalarNode {
			return nil, lineErr(b.node.Line, "column %s: %s: want a value", raw.Name, b.rule)
		}
		v, err := typ.bound(b.node.Value)
		if err != nil {
			return nil, lineErr(b.node.Line, "column %s: %s: %v", raw.Name, b.rule, err)
		}
		*b.dst = v
	}
	if len(raw.Allowed) > 0 {
		col.Allowed = map[string]bool{}
		for _, v := range raw.Allowed {
			col.Allowed[v] = true
		}
	}
	if raw.Drift.Kind != 0 {
		if err := decodeStrict(&raw.Drift, &col.Drift); err != nil {
			return nil, err
		}
		for _, b := range []struct {
			v    *float64
			name string
			most float64
		}{{col.Drift.PSI, "psi", math.Inf(1)}, {col.Drift.KS, "ks", 1}, {col.Drift.Nulls, "nulls", 1}} {
			if b.v != nil && !(*b.v >= 0 && *b.v <= b.most) {
				return nil, lineErr(raw.Drift.Line, "column %s: drift: %s: want a number from 0 to %g", raw.Name, b.name, b.most)
			}
		}
	}
	if raw.Regex != "" {
		re, err := compileRegex(raw.Regex)
		if err != nil {
			return nil, lineErr(n.Line, "column %s: regex: %v", raw.Name, err)
		}
		col.Regex = re
	}
	return col, nil
}

// decodeStrict decodes n into v, refusing keys that v has no field for.
// Its errors read "LINE: message".
func decodeStrict(n *yaml.Node, v any) error {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return lineErr(n.Line, "want a mapping of keys to values")
	}
	known := fieldNames(v)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !slices.Contains(known, k.Value) {
			return lineErr(k.Line, "unknown key %q (known: %s)", k.Value, strings.Join(known, ", "))
		}
	}
	if err := n.Decode(v); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			msg = te.Errors[0]
		}
		if l, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(l, "line ") {
			return fmt.Errorf("%s: %s", strings.TrimPrefix(l, "line "), rest)
		}
		return lineErr(n.Line, "%s", msg)
	}
	return nil
}

// fieldNames are the yaml keys of struct *v.
func fieldNames(v any) []string {
	t := reflect.TypeOf(v).Elem()
	var out []string
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); name != "" {
			out = append(out, name)
		}
	}
	return out
}

func lineErr(line int, format string, args ...any) error {
	return fmt.Errorf("%d: %s", line, fmt.Sprintf(format, args...))
}

// For returns the contract of the table at path, if an entry matches it
// (the last one that does).
func (c *Contract) For(path string) (*Table, bool) {
	if c == nil {
		return nil, false
	}
	var out *Table
	for _, t := range c.tables {
		if t.match.MatchesPath(path) {
			out = t
		}
	}
	return out, out != nil
}

// WatchesDrift reports whether a column of t has drift thresholds: its
// profile is then computed at commit, for dx drift.
func (t *Table) WatchesDrift() bool {
	for _, c := range t.Columns {
		if c.Drift != (DriftThresholds{}) {
			return true
		}
	}
	return false
}

// Empty reports whether the contract covers no table.
func (c *Contract) Empty() bool { return c == nil || len(c.tables) == 0 }

// Paths are the entries that name one path, not a pattern: each must be
// a table.
func (c *Contract) Paths() []*Table {
	var out []*Table
	if c == nil {
		return out
	}
	for _, t := range c.tables {
		if !t.pattern {
			out = append(out, t)
		}
	}
	return out
}
