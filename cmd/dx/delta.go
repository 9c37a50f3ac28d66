package main

import (
	"bufio"
	"context"
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

// deltaOptions are the arguments and flags of dx delta.
type deltaOptions struct {
	model  string // MODEL[@VERSION]
	rev    string // HEAD when empty
	out    string // write the delta into this directory
	format string // rows as csv or jsonl
	stat   bool   // only count the changes
	asJSON bool
}

func (a *app) deltaCmd() *cobra.Command {
	var o deltaOptions
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
			if o.format != "" && o.format != "csv" && o.format != "jsonl" {
				return usageError{fmt.Errorf("--format %q: want csv or jsonl", o.format)}
			}
			o.model = args[0]
			if len(args) == 2 {
				o.rev = args[1]
			}
			return a.runDelta(cmd.Context(), o)
		},
	}
	c.Flags().StringVar(&o.out, "out", "", "write the delta into this directory (created; must be empty)")
	c.Flags().StringVar(&o.format, "format", "", "rows as csv or jsonl (default jsonl with --out)")
	c.Flags().BoolVar(&o.asJSON, "json", false, "print as JSON")
	c.Flags().BoolVar(&o.stat, "stat", false, "only count the changes")
	return c
}

// runDelta prints, or with o.out writes, what changed in a model's data
// since it was trained.
func (a *app) runDelta(ctx context.Context, o deltaOptions) error {
	return a.openRepo(ctx, store.ReadCaching, func(r *repo.Repo) error {
		d, err := r.Delta(ctx, o.model, o.rev)
		if err != nil {
			return err
		}
		if o.out == "" {
			var all []repo.TableDiff
			for _, dd := range d.Data {
				all = append(all, dd.Tables...)
			}
			return printRowDiffs(a, all, o.asJSON, o.stat, o.format)
		}
		format := o.format
		if format == "" {
			format = "jsonl"
		}
		sum, err := writeDelta(ctx, r, d, o.out, format)
		if err != nil {
			return err
		}
		if o.asJSON {
			return a.printJSON(sum)
		}
		a.printf("Delta of %s@%d up to %s: %d changed paths written to %s\n", sum.Model, sum.Version, d.To.Short(), len(sum.Files), o.out)
		return nil
	})
}

// writeDelta writes a delta into dir.
func writeDelta(ctx context.Context, r *repo.Repo, d *repo.ModelDelta, dir, format string) (*deltaJSON, error) {
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
