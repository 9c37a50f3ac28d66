package table

// AppendJSONString appends s as a JSON string, as encoding/json writes it
// with HTML escaping off (for formats whose values are JSON, as Parquet's
// are in row diffs).
func AppendJSONString(b []byte, s string) []byte { return appendJSONString(b, s) }

// JSONValues reports whether a row diff holds the format's values as
// JSON (JSONL, Parquet) rather than text (CSV, TSV).
func (f Format) JSONValues() bool { return f == JSONL || f == Parquet }

// RowTable is Table, Parquet tables included: the row diff and the merge
// read their rows (internal/table/parquet); checks and profiles do not
// yet.
func (a *Attributes) RowTable(path string) (Spec, bool) {
	s, _ := a.lookup(path)
	if s.Format == "" {
		return Spec{}, false
	}
	return s, true
}

// csvText is a JSON value in CSV output: a string's text, other values as
// JSON; a Parquet null is an empty field, as pandas and DuckDB write it.
func csvText(f Format, v string) string {
	if f == Parquet && v == "null" {
		return ""
	}
	return jsonText(v)
}
