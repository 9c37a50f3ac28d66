package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// A sparse repository has the content of only some paths (dx clone --path,
// dx pull --path): every commit and tree, but file content only under its
// sparse paths. Its worktree holds those paths alone; everything outside
// them is taken from HEAD as it is, so status never shows it as deleted
// and commit never records it as deleted.
const sparseFile = "sparse.json"

type sparseState struct {
	Paths []string `json:"paths"`
}

func sparsePath(root string) string { return filepath.Join(root, DirName, sparseFile) }

// loadSparse returns the sparse paths, or nil for a full repository.
func loadSparse(root string) ([]string, error) {
	b, err := os.ReadFile(sparsePath(root))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sparse paths: %w", err)
	}
	var st sparseState
	if err := json.Unmarshal(b, &st); err != nil || len(st.Paths) == 0 {
		return nil, fmt.Errorf("sparse paths: %s is damaged", sparsePath(root))
	}
	return st.Paths, nil
}

// Sparse returns the repository's sparse paths (nil: not sparse).
func (r *Repo) Sparse() []string { return r.sparse }

// addSparse widens (or starts) the sparse paths. It returns the paths that
// are new.
func (r *Repo) addSparse(paths []string) ([]string, error) {
	all := slices.Clone(r.sparse)
	var added []string
	for _, p := range paths {
		if withinAny(p, all) {
			continue
		}
		all = append(all, p)
		added = append(added, p)
	}
	// Drop paths now covered by a wider one.
	slices.Sort(all)
	var out []string
	for _, p := range all {
		if !withinAny(p, out) {
			out = append(out, p)
		}
	}
	if out == nil {
		out = []string{}
	}
	b, err := json.MarshalIndent(sparseState{Paths: out}, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := store.WriteFileAtomic(sparsePath(r.Root), append(b, '\n')); err != nil {
		return nil, fmt.Errorf("sparse paths: %w", err)
	}
	r.sparse = out
	return added, nil
}

// inSparse reports whether the worktree holds path p (always, in a full
// repository).
func (r *Repo) inSparse(p string) bool {
	return r.sparse == nil || withinAny(p, r.sparse)
}

// withinAny reports whether p is one of roots or beneath one.
func withinAny(p string, roots []string) bool {
	for _, r := range roots {
		if r == "" || p == r || strings.HasPrefix(p, r+"/") {
			return true
		}
	}
	return false
}

// graft returns HEAD's tree with paths replaced by what the snapshot
// holds for them, and removed where it holds nothing: a sparse worktree's
// whole tree (paths: the sparse paths), or a commit of some paths. strict:
// a path neither in the worktree nor in HEAD is an error (a user's path),
// else it is passed over.
func (r *Repo) graft(ctx context.Context, g dag.Getter, p dag.Putter, root *worktreeNode, paths []string, strict bool) (dag.ID, error) {
	if len(paths) == 1 && paths[0] == "" {
		return root.id, nil
	}
	_, head, _, err := r.headCommit(ctx)
	if err != nil {
		return dag.ZeroID, err
	}
	base := treeOf(head)
	if base.IsZero() {
		if base, err = dag.EmptyTree(ctx, p); err != nil {
			return dag.ZeroID, err
		}
	}
	edits := map[string]*dag.TreeEntry{}
	for _, within := range paths {
		if n := findNode(root, within); n != nil {
			edits[within] = &dag.TreeEntry{Name: n.name, Mode: n.mode, ID: n.id, Size: n.size}
			continue
		}
		switch _, err := dag.LookupPath(ctx, g, base, within); {
		case err == nil:
			edits[within] = nil
		case !errors.Is(err, dag.ErrNotFound):
			return dag.ZeroID, err
		case strict:
			return dag.ZeroID, fmt.Errorf("%s: %w", within, ErrPathspec)
		}
	}
	return dag.EditTree(ctx, g, p, base, edits)
}

// checkSparsePaths refuses paths outside the sparse paths.
func (r *Repo) checkSparsePaths(paths []string) error {
	for _, p := range paths {
		if !r.inSparse(p) {
			return fmt.Errorf("%s is outside the sparse paths (%s); dx pull --path %s first: %w", p, strings.Join(r.sparse, ", "), p, ErrPathspec)
		}
	}
	return nil
}

// cleanPaths checks repository-relative paths given by a user.
func cleanPaths(ps []string) ([]string, error) {
	var out []string
	for _, p := range ps {
		c := path.Clean(strings.TrimSuffix(filepath.ToSlash(p), "/"))
		if c == "." {
			c = ""
		}
		if strings.HasPrefix(c, "/") || c == ".." || strings.HasPrefix(c, "../") || c == DirName || strings.HasPrefix(c, DirName+"/") {
			return nil, fmt.Errorf("%q: want a path inside the repository: %w", p, ErrPathspec)
		}
		out = append(out, c)
	}
	return out, nil
}
