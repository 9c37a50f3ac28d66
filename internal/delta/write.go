package delta

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/internal/table"
)

// File is one changed path of delta.json.
type File struct {
	Path    string `json:"path"`
	From    string `json:"from,omitempty"`
	Change  string `json:"change"`
	Table   bool   `json:"table"`
	Added   int    `json:"added,omitempty"`
	Removed int    `json:"removed,omitempty"`
	Changed int    `json:"changed,omitempty"`
	Rows    string `json:"rows,omitempty"`    // directory-relative file of the row changes
	Content string `json:"content,omitempty"` // directory-relative copy of the new version
}

// Summary is delta.json. Model and Version are set for a model's delta.
type Summary struct {
	Model   string   `json:"model,omitempty"`
	Version uint64   `json:"version,omitempty"`
	From    []string `json:"from"`
	To      string   `json:"to"`
	Files   []File   `json:"files"`
	// Drift names drift.json, the columns' drift of the tables a data
	// contract covers (repo.DriftReport), when there is one.
	Drift string `json:"drift,omitempty"`
}

// Source is the difference from one commit (zero: nothing) to the delta's
// end.
type Source struct {
	From   dag.ID
	Tables []repo.TableDiff
}

// FileWriter copies a stored file's content; *repo.Repo is one.
type FileWriter interface {
	WriteFile(ctx context.Context, e *dag.TreeEntry, w io.Writer) error
}

// Options say where and how a delta is written.
type Options struct {
	Dir     string // created if missing; must be empty
	Format  string // rows as "jsonl" (the default) or "csv"
	Model   string
	Version uint64
	// Drift, if set, is written as drift.json.
	Drift *repo.DriftReport
}

// Write writes the delta from each source to the commit to into o.Dir and
// returns its summary, which it also writes as delta.json, last.
func Write(ctx context.Context, files FileWriter, sources []Source, to dag.ID, o Options) (*Summary, error) {
	if ents, err := os.ReadDir(o.Dir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("delta --out: %s is not empty: %w", o.Dir, repo.ErrExists)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	format := o.Format
	if format == "" {
		format = "jsonl"
	}
	sum := &Summary{Model: o.Model, Version: o.Version, To: to.String(), Files: []File{}}
	create := func(rel string) (*os.File, error) {
		p := filepath.Join(o.Dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		return os.Create(p)
	}
	for _, src := range sources {
		from := ""
		if !src.From.IsZero() {
			from = src.From.String()
		}
		sum.From = append(sum.From, from)
		for _, td := range src.Tables {
			f := File{Path: td.Change.Path, From: td.Change.From, Change: string(td.Change.Kind), Table: td.Rows != nil}
			var err error
			switch {
			case td.Rows != nil:
				f.Added, f.Removed, f.Changed = td.Rows.Counts()
				f.Rows = "rows/" + td.Change.Path + "." + format
				err = writeTo(create, f.Rows, func(w *bufio.Writer) error {
					if format == "csv" {
						return table.NewCSVWriter(w).Write(td.Change.Path, td.Spec, td.Rows)
					}
					return td.Spec.WriteJSONL(w, td.Change.Path, td.Rows)
				})
			case td.Change.New != nil && td.Change.New.Mode.IsFile():
				f.Content = "files/" + td.Change.Path
				err = writeTo(create, f.Content, func(w *bufio.Writer) error { return files.WriteFile(ctx, td.Change.New, w) })
			}
			if err != nil {
				return nil, fmt.Errorf("delta --out: %s: %w", td.Change.Path, err)
			}
			sum.Files = append(sum.Files, f)
		}
	}
	if o.Drift != nil {
		sum.Drift = "drift.json"
		if err := writeTo(create, sum.Drift, func(w *bufio.Writer) error { return writeJSON(w, o.Drift) }); err != nil {
			return nil, fmt.Errorf("delta --out: drift: %w", err)
		}
	}
	err := writeTo(create, "delta.json", func(w *bufio.Writer) error { return writeJSON(w, sum) })
	return sum, err
}

// writeJSON writes v indented, as dx's --json does.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeTo creates the directory-relative file rel and fills it with fn.
func writeTo(create func(string) (*os.File, error), rel string, fn func(w *bufio.Writer) error) error {
	f, err := create(rel)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 256<<10)
	err = fn(w)
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
