package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/check"
	"github.com/dxdata/dx/internal/contract"
	"github.com/dxdata/dx/internal/csvdialect"
	"github.com/dxdata/dx/internal/repo"
)

type checkOptions struct {
	asJSON bool
	report string
}

func (a *app) checkCmd() *cobra.Command {
	var o checkOptions
	c := &cobra.Command{
		Use:   "check [REV]",
		Short: "List every row of a revision (HEAD) that breaks the data contract (" + contract.File + ")",
		Args:  args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			rev := "HEAD"
			if len(args) == 1 {
				rev = args[0]
			}
			return a.runCheck(cmd.Context(), rev, o)
		},
	}
	c.Flags().BoolVar(&o.asJSON, "json", false, "print the violations as a JSON array")
	c.Flags().StringVar(&o.report, "report", "", "also write every violation to this file, as CSV (.csv) or JSON lines (.jsonl)")
	return c
}

// runCheck lists the violations of the contract in rev and fails (exit
// 7) when there are any.
func (a *app) runCheck(ctx context.Context, rev string, o checkOptions) error {
	report, closeReport, err := openReport(o.report)
	if err != nil {
		return err
	}
	n := 0
	list := []repo.ContractViolation{}
	var tables int
	err = a.withRepoRead(ctx, func(r *repo.Repo) error {
		tables, err = r.CheckContract(ctx, rev, func(v repo.ContractViolation) error {
			n++
			if o.asJSON {
				list = append(list, v)
			} else {
				if v.Line == 0 { // the table as a whole
					fmt.Fprintf(a.stdout, "%s: %s\n", quotePath(v.Path), v.Problem)
				} else {
					fmt.Fprintf(a.stdout, "%s:%d: %s\n", quotePath(v.Path), v.Line, v.Problem)
				}
			}
			return report(v)
		})
		return err
	})
	if cerr := closeReport(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if o.asJSON {
		if err := a.printJSON(list); err != nil {
			return err
		}
	}
	if n > 0 {
		return fmt.Errorf("%d violations of %s in %d tables: %w", n, contract.File, tables, check.ErrInvalid)
	}
	a.printf("%d tables keep %s\n", tables, contract.File)
	return nil
}

// openReport opens the --report file, whose name says its format.
func openReport(name string) (write func(repo.ContractViolation) error, close func() error, err error) {
	if name == "" {
		return func(repo.ContractViolation) error { return nil }, func() error { return nil }, nil
	}
	ext := filepath.Ext(name)
	if ext != ".csv" && ext != ".jsonl" {
		return nil, nil, usageError{fmt.Errorf("--report %s: the name must end in .csv or .jsonl", name)}
	}
	f, err := os.Create(name)
	if err != nil {
		return nil, nil, err
	}
	if ext == ".jsonl" {
		enc := json.NewEncoder(f)
		enc.SetEscapeHTML(false)
		return func(v repo.ContractViolation) error { return enc.Encode(v) }, f.Close, nil
	}
	w := csvdialect.NewWriter(f, csvdialect.Default)
	if err := w.Write([]string{"path", "line", "column", "rule", "value"}); err != nil {
		f.Close()
		return nil, nil, err
	}
	write = func(v repo.ContractViolation) error {
		return w.Write([]string{v.Path, strconv.Itoa(v.Line), v.Column, v.Rule, v.Value})
	}
	return write, func() error {
		w.Flush()
		return errors.Join(w.Error(), f.Close())
	}, nil
}
