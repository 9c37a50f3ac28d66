package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/table"
)

// worktreeAttributes reads the worktree's .dxattributes, which says which
// files are tables: commit, status, diff and merge ask it.
func (r *Repo) worktreeAttributes(ctx context.Context) (*table.Attributes, error) {
	if r.sparse != nil && !withinAny(table.AttributesFile, r.sparse) {
		// Outside the sparse paths, the worktree is HEAD.
		_, head, _, err := r.headCommit(ctx)
		if err != nil {
			return nil, err
		}
		return r.treeAttributes(ctx, treeOf(head))
	}
	b, err := os.ReadFile(filepath.Join(r.Root, table.AttributesFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return table.ParseAttributes(bytes.NewReader(b), table.AttributesFile)
}

// treeAttributes reads .dxattributes from a tree (none from the zero one).
func (r *Repo) treeAttributes(ctx context.Context, tree dag.ID) (*table.Attributes, error) {
	data, err := r.rootFile(ctx, tree, table.AttributesFile)
	if err != nil {
		return nil, err
	}
	return table.ParseAttributes(bytes.NewReader(data), table.AttributesFile)
}

// rootFile reads a settings file at the root of a tree, up to 1 MiB;
// none if the tree has no such file.
func (r *Repo) rootFile(ctx context.Context, tree dag.ID, name string) ([]byte, error) {
	if tree.IsZero() {
		return nil, nil
	}
	e, err := dag.LookupPath(ctx, r.Store, tree, name)
	switch {
	case errors.Is(err, dag.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case !e.Mode.IsFile():
		return nil, nil
	}
	data, err := r.Store.ReadAll(ctx, e.ID, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return data, nil
}

// noTables stands for a .dxattributes that does not parse (committed with
// --no-verify): a merge then merges every path as a file.
func (r *Repo) noTables(err error) *table.Attributes {
	r.warn(fmt.Sprintf("%v; every path merges as a file", err))
	return nil
}

// TableSpec says whether path is a table in tree, by the tree's own
// .dxattributes, and how it is read.
func (r *Repo) TableSpec(ctx context.Context, tree dag.ID, path string) (table.Spec, bool, error) {
	attrs, err := r.treeAttributes(ctx, tree)
	if err != nil {
		return table.Spec{}, false, err
	}
	spec, ok := attrs.Table(path)
	return spec, ok, nil
}
