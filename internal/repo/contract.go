package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/check"
	"github.com/dxdata/dx/internal/contract"
	"github.com/dxdata/dx/internal/table"
)

// treeContract reads the data contract (dx.contract.yaml) of a tree; a
// tree without one has an empty contract.
func (r *Repo) treeContract(ctx context.Context, tree dag.ID) (*contract.Contract, error) {
	data, err := r.rootFile(ctx, tree, contract.File)
	if err != nil {
		return nil, err
	}
	return contract.Parse(bytes.NewReader(data), contract.File)
}

// contractPaths checks that every path the contract names alone (not by
// a pattern) is a table, where the tree has it.
func (r *Repo) contractPaths(ctx context.Context, tree dag.ID, c *contract.Contract, attrs *table.Attributes) error {
	for _, t := range c.Paths() {
		e, err := dag.LookupPath(ctx, r.Store, tree, t.Path)
		if errors.Is(err, dag.ErrNotFound) {
			continue // not there yet
		}
		if err != nil {
			return err
		}
		if _, ok := attrs.RowTable(t.Path); !ok || !e.Mode.IsFile() {
			return &check.Violation{Msg: fmt.Sprintf("%s:%d: %s is not a table (%s says which files are)", contract.File, t.Line, t.Path, table.AttributesFile)}
		}
	}
	return nil
}

// ErrMergeResult: the result of a merge breaks a rule of its tables
// (their spec or the data contract); nothing was committed.
var ErrMergeResult = errors.New("the merged result")

// verifyMerge checks the tables a merge changes in ours' tree, as a
// commit checks them, when the merged tree has a data contract: the
// merged result must keep it before it is committed.
func (r *Repo) verifyMerge(ctx context.Context, ours, merged dag.ID) error {
	c, err := r.treeContract(ctx, merged)
	if err != nil {
		return &check.Violation{Msg: err.Error()}
	}
	if c.Empty() {
		return nil
	}
	changes, err := diffChanges(ctx, r.Store, ours, merged)
	if err != nil {
		return err
	}
	if err := r.verifyTables(ctx, ours, merged, changes, verifyRun{stats: &VerifyStats{}}); err != nil {
		return fmt.Errorf("%w: %w", ErrMergeResult, err)
	}
	return nil
}

// rulesFor are the contract's rules for the table at path, if any.
func rulesFor(c *contract.Contract, path string, spec table.Spec) check.Rules {
	t, ok := c.For(path)
	if !ok {
		return nil
	}
	if spec.Format == table.Parquet {
		return t.SchemaChecker()
	}
	return t.Checker(spec.Format == table.JSONL)
}

// ContractViolation is one rule of the data contract a row breaks.
type ContractViolation struct {
	Path string `json:"path"`
	Line int    `json:"line"`
	contract.Problem
}

// CheckContract reads every table of revision rev that the contract in
// its tree covers, whole, and calls fn with each rule a row breaks, in
// file and line order. It returns how many tables it read.
func (r *Repo) CheckContract(ctx context.Context, rev string, fn func(ContractViolation) error) (int, error) {
	res, err := r.Resolve(ctx, rev)
	if err != nil {
		return 0, err
	}
	tree := res.Commit.Tree
	attrs, err := r.treeAttributes(ctx, tree)
	if err != nil {
		return 0, &check.Violation{Msg: err.Error()}
	}
	c, err := r.treeContract(ctx, tree)
	if err != nil {
		return 0, &check.Violation{Msg: err.Error()}
	}
	if err := r.contractPaths(ctx, tree, c, attrs); err != nil {
		return 0, err
	}
	tables := 0
	err = dag.WalkTree(ctx, r.Store, tree, func(p string, e dag.TreeEntry) error {
		if !e.Mode.IsFile() || !r.inSparse(p) {
			return nil
		}
		spec, ok := attrs.RowTable(p)
		if !ok {
			return nil
		}
		rules := rulesFor(c, p, spec)
		if rules == nil {
			return nil
		}
		tables++
		src, err := r.entrySource(ctx, &e, p)
		if err != nil {
			return err
		}
		v, err := r.checkVersion(ctx, p, spec, src)
		if err != nil {
			return err
		}
		v.Rules = rules
		if spec.Format != table.Parquet { // (ParquetEach reads no spans)
			bar := r.opts.Progress.Start("checking "+p, int64(e.Size), true)
			defer bar.Done()
			v.Progress = bar.Add
		}
		each := func(line int, pr contract.Problem) error {
			return fn(ContractViolation{Path: p, Line: line, Problem: pr})
		}
		if spec.Format == table.Parquet {
			return check.ParquetEach(ctx, spec.Key, v, each)
		}
		return check.Each(ctx, table.New(spec), v, func(line int, pr contract.Problem) error {
			return fn(ContractViolation{Path: p, Line: line, Problem: pr})
		})
	})
	return tables, err
}
