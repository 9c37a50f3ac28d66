package table

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/dxdata/dx/internal/csvdialect"
	"github.com/dxdata/dx/merge"
)

// ConflictReportPath is where the report of a table's conflicts goes,
// beside the table.
func ConflictReportPath(p string, f Format) string {
	if f == JSONL {
		return p + ".conflicts.jsonl"
	}
	return p + ".conflicts.csv"
}

// ConflictReport renders the report of a table's conflicting rows: each
// conflicting key with its base, ours and theirs rows, as CSV (a _key and
// a _side column, then the columns) or, for a JSONL table, as JSONL. It
// returns the report's path (ConflictReportPath) and its bytes.
func ConflictReport(c merge.PathConflict, spec Spec) (string, []byte, error) {
	rp := ConflictReportPath(c.Path, spec.Format)
	var b bytes.Buffer
	sides := []struct {
		name string
		row  func(rc merge.RowConflict) *merge.Row
	}{
		{"base", func(rc merge.RowConflict) *merge.Row { return rc.Base }},
		{"ours", func(rc merge.RowConflict) *merge.Row { return rc.Ours }},
		{"theirs", func(rc merge.RowConflict) *merge.Row { return rc.Theirs }},
	}
	if spec.Format == JSONL {
		for _, rc := range c.Rows {
			line := map[string]any{"key": spec.KeyParts(rc.Key)}
			for _, s := range sides {
				if row := s.row(rc); row != nil {
					line[s.name] = OrderedRow{Cols: row.Cols, Vals: row.Vals, JSON: true}
				} else {
					line[s.name] = nil
				}
			}
			enc, err := json.Marshal(line)
			if err != nil {
				return "", nil, err
			}
			b.Write(enc)
			b.WriteByte('\n')
		}
	} else {
		var cols []string
		seen := map[string]bool{}
		for _, rc := range c.Rows {
			for _, s := range sides {
				if row := s.row(rc); row != nil {
					for _, col := range row.Cols {
						if !seen[col] {
							seen[col] = true
							cols = append(cols, col)
						}
					}
				}
			}
		}
		w := csvdialect.NewWriter(&b, csvdialect.Default)
		w.Write(append([]string{"_key", "_side"}, cols...))
		for _, rc := range c.Rows {
			for _, s := range sides {
				rec := []string{strings.Join(spec.KeyParts(rc.Key), ","), s.name}
				row := s.row(rc)
				if row == nil {
					rec[1] += " (absent)"
				}
				for _, col := range cols {
					v := ""
					if row != nil {
						v, _ = row.Value(col)
					}
					rec = append(rec, v)
				}
				w.Write(rec)
			}
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return "", nil, err
		}
	}
	return rp, b.Bytes(), nil
}
