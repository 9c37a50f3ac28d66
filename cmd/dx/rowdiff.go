package main

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/dxdata/dx/internal/csvdialect"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
)

// tableDiffJSON is one file of `dx diff --rows --json`.
type tableDiffJSON struct {
	Path       string                `json:"path"`
	From       string                `json:"from,omitempty"`
	Change     string                `json:"change"`
	Table      bool                  `json:"table"`
	Format     string                `json:"format,omitempty"`
	Key        []string              `json:"key,omitempty"`
	OldColumns []string              `json:"old_columns,omitempty"`
	NewColumns []string              `json:"new_columns,omitempty"`
	Added      int                   `json:"added"`
	Removed    int                   `json:"removed"`
	Changed    int                   `json:"changed"`
	Rows       []table.RowChangeJSON `json:"rows,omitempty"`
	Stats      *merge.DiffStats      `json:"stats,omitempty"`
	// NotFetched: outside a sparse repository's paths, the table's
	// content was not fetched; its rows are not compared.
	NotFetched bool `json:"not_fetched,omitempty"`
	// SchemaChange: a Parquet table's schema changed (how); its rows are
	// not compared.
	SchemaChange string `json:"schema_change,omitempty"`
}

func printRowDiffs(a *app, tds []repo.TableDiff, asJSON, stat bool, format string) error {
	if format != "" {
		for _, td := range tds {
			if td.SchemaChange != "" {
				return fmt.Errorf("%s: %s: its rows cannot be listed as %s", td.Change.Path, td.SchemaChange, format)
			}
		}
	}
	switch {
	case format == "jsonl":
		for _, td := range tds {
			if td.Rows != nil {
				if err := td.Spec.WriteJSONL(a.stdout, td.Change.Path, td.Rows); err != nil {
					return err
				}
			}
		}
		return nil
	case format == "csv":
		w := table.NewCSVWriter(a.stdout)
		for _, td := range tds {
			if td.Rows != nil {
				if err := w.Write(td.Change.Path, td.Spec, td.Rows); err != nil {
					return err
				}
			}
		}
		return nil
	case asJSON:
		out := []tableDiffJSON{}
		for _, td := range tds {
			j := tableDiffJSON{Path: td.Change.Path, From: td.Change.From, Change: string(td.Change.Kind), Table: td.Table, NotFetched: td.NotFetched}
			if td.NotFetched || td.SchemaChange != "" {
				j.Format, j.Key, j.SchemaChange = string(td.Spec.Format), td.Spec.Key, td.SchemaChange
			}
			if td.Rows != nil {
				j.Format, j.Key = string(td.Spec.Format), td.Spec.Key
				j.OldColumns, j.NewColumns = td.Rows.OldHeader.Cols, td.Rows.NewHeader.Cols
				j.Added, j.Removed, j.Changed = td.Rows.Counts()
				if !stat {
					j.Rows = []table.RowChangeJSON{}
					for _, c := range td.Rows.Changes {
						j.Rows = append(j.Rows, td.Spec.ChangeJSON("", c))
					}
				}
				st := td.Rows.Stats
				j.Stats = &st
			}
			out = append(out, j)
		}
		return a.printJSON(out)
	}
	out := bufio.NewWriterSize(a.stdout, 256<<10)
	for _, td := range tds {
		name := changeName(td.Change, " -> ")
		if td.NotFetched {
			fmt.Fprintf(out, "%s (%s): %s; rows not compared: outside the sparse paths, not fetched (dx pull --path %s)\n", name, td.Spec, td.Change.Kind, quotePath(td.Change.Path))
			continue
		}
		if td.SchemaChange != "" {
			fmt.Fprintf(out, "%s (%s): %s; %s\n", name, td.Spec, td.Change.Kind, td.SchemaChange)
			continue
		}
		if td.Rows == nil {
			fmt.Fprintf(out, "%s: %s (not a table)\n", name, td.Change.Kind)
			continue
		}
		ad, rm, ch := td.Rows.Counts()
		st := td.Rows.Stats
		fmt.Fprintf(out, "%s (%s): %d added, %d removed, %d changed rows; read %s of %s\n",
			name, td.Spec, ad, rm, ch, humanBytes(st.BytesRead), humanBytes(st.BytesTotal))
		if stat {
			continue
		}
		for _, c := range td.Rows.Changes {
			key := td.Spec.ShowKey(c.Key)
			if key != "" {
				key += "  "
			}
			switch c.Kind {
			case merge.RowAdded:
				fmt.Fprintf(out, "+ %s%s\n", key, rowText(td.Spec, c.New))
			case merge.RowRemoved:
				fmt.Fprintf(out, "- %s%s\n", key, rowText(td.Spec, c.Old))
			default:
				var parts []string
				for _, col := range c.Columns {
					ov, oldOK := c.Old.Value(col)
					nv, newOK := c.New.Value(col)
					jsonl := td.Spec.Format.JSONValues()
					switch {
					case !oldOK:
						parts = append(parts, fmt.Sprintf("%s: (none) → %s", col, show(nv, jsonl)))
					case !newOK:
						parts = append(parts, fmt.Sprintf("%s: %s → (none)", col, show(ov, jsonl)))
					default:
						parts = append(parts, fmt.Sprintf("%s: %s → %s", col, show(ov, jsonl), show(nv, jsonl)))
					}
				}
				fmt.Fprintf(out, "~ %s%s\n", key, strings.Join(parts, "; "))
			}
		}
	}
	return out.Flush()
}

// rowText is a row as one CSV line (JSONL rows as their JSON object).
func rowText(s table.Spec, r *merge.Row) string {
	if s.Format.JSONValues() {
		b, _ := table.OrderedRow{Cols: r.Cols, Vals: r.Vals, JSON: true}.MarshalJSON()
		return string(b)
	}
	var b strings.Builder
	w := csvdialect.NewWriter(&b, csvdialect.Default)
	w.Write(r.Vals)
	w.Flush()
	// One row, one line: line ends inside fields are shown escaped.
	return strings.ReplaceAll(strings.TrimSuffix(b.String(), "\n"), "\n", `\n`)
}

// show is one value for people: JSON as it is, text quoted when it would
// otherwise be ambiguous.
func show(v string, isJSON bool) string {
	if isJSON {
		return v
	}
	if v == "" || strings.ContainsAny(v, " ,\"\n\t") {
		return fmt.Sprintf("%q", v)
	}
	return v
}
