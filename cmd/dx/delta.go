package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/store"
)

// deltaFileJSON is one changed path of delta.json.
type deltaFileJSON struct {
	Path    string `json:"path"`
	From    string `json:"from,omitempty"`
	Change  string `json:"change"`
	Table   bool   `json:"table"`
	Added   int    `json:"added,omitempty"`
	Removed int    `json:"removed,omitempty"`
	Changed int    `json:"changed,omitempty"`
	Rows    string `json:"rows,omitempty"`    // DIR-relative file of the row changes
	Content string `json:"content,omitempty"` // DIR-relative copy of the new version
}

type deltaJSON struct {
	Model   string          `json:"model"`
	Version uint64          `json:"version"`
	From    []string        `json:"from"`
	To      string          `json:"to"`
	Files   []deltaFileJSON `json:"files"`
}

func (a *app) deltaCmd() *cobra.Command {
	var out, format string
	var asJSON, stat bool
	c := &cobra.Command{
		Annotations: bigHeap,
		Use:         "delta MODEL[@VERSION] [REV] [--out DIR] [--format csv|jsonl]",
		Short:       "What changed in a model's data since it was trained (rows and files)",
		Long: "Compares the data a model version was trained on with REV (default HEAD), limited to\n" +
			"the model's data paths: per table the added, changed (old and new values) and removed\n" +
			"rows, per tree the added, changed and removed files. It reads only the chunks that\n" +
			"differ. Without --out it prints like dx diff --rows; with --out DIR it writes\n" +
			"DIR/delta.json (what changed), DIR/rows/PATH.jsonl|csv (each table's row changes)\n" +
			"and DIR/files/PATH (the new version of every other added or changed file), so a\n" +
			"model can be retrained on just the changes.",
		Args: args(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if format != "" && format != "csv" && format != "jsonl" {
				return usageError{fmt.Errorf("--format %q: want csv or jsonl", format)}
			}
			rev := ""
			if len(args) == 2 {
				rev = args[1]
			}
			return a.openRepo(ctx, store.ReadCaching, func(r *repo.Repo) error {
				d, err := r.Delta(ctx, args[0], rev)
				if err != nil {
					return err
				}
				if out == "" {
					var all []repo.TableDiff
					for _, dd := range d.Data {
						all = append(all, dd.Tables...)
					}
					return printRowDiffs(a, all, asJSON, stat, format)
				}
				if format == "" {
					format = "jsonl"
				}
				sum, err := writeDelta(cmd, r, d, out, format)
				if err != nil {
					return err
				}
				if asJSON {
					return a.printJSON(sum)
				}
				a.printf("Delta of %s@%d up to %s: %d changed paths written to %s\n", sum.Model, sum.Version, d.To.Short(), len(sum.Files), out)
				return nil
			})
		},
	}
	c.Flags().StringVar(&out, "out", "", "write the delta into this directory (created; must be empty)")
	c.Flags().StringVar(&format, "format", "", "rows as csv or jsonl (default jsonl with --out)")
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	c.Flags().BoolVar(&stat, "stat", false, "only count the changes")
	return c
}

// writeDelta writes a delta into dir.
func writeDelta(cmd *cobra.Command, r *repo.Repo, d *repo.ModelDelta, dir, format string) (*deltaJSON, error) {
	ctx := cmd.Context()
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("delta --out: %s is not empty: %w", dir, repo.ErrExists)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	sum := &deltaJSON{Model: d.Model.Name, Version: d.Model.Version, To: d.To.String(), Files: []deltaFileJSON{}}
	create := func(rel string) (*os.File, error) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		return os.Create(p)
	}
	for _, dd := range d.Data {
		sum.From = append(sum.From, dd.From.String())
		for _, td := range dd.Tables {
			f := deltaFileJSON{Path: td.Change.Path, From: td.Change.From, Change: string(td.Change.Kind), Table: td.Rows != nil}
			var err error
			switch {
			case td.Rows != nil:
				f.Added, f.Removed, f.Changed = counts(td.Rows)
				f.Rows = "rows/" + td.Change.Path + "." + format
				err = writeTo(create, f.Rows, func(w *bufio.Writer) error {
					if format == "csv" {
						return table.NewCSVWriter(w).Write(td.Change.Path, td.Spec, td.Rows)
					}
					return td.Spec.WriteJSONL(w, td.Change.Path, td.Rows)
				})
			case td.Change.New != nil && td.Change.New.Mode.IsFile():
				f.Content = "files/" + td.Change.Path
				err = writeTo(create, f.Content, func(w *bufio.Writer) error { return r.WriteFile(ctx, td.Change.New, w) })
			}
			if err != nil {
				return nil, fmt.Errorf("delta --out: %s: %w", td.Change.Path, err)
			}
			sum.Files = append(sum.Files, f)
		}
	}
	err := writeTo(create, "delta.json", func(w *bufio.Writer) error {
		a := &app{stdout: w}
		return a.printJSON(sum)
	})
	return sum, err
}

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
