package repo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// Resolved is a revision resolved to a commit.
type Resolved struct {
	ID     dag.ID
	Commit *dag.Commit
	// Branch is set when the revision named a branch exactly.
	Branch string
}

// Resolve turns a revision into a commit. Accepted forms: HEAD, a branch, a
// tag, a full ref (refs/…), a full or abbreviated (≥7) commit id, each
// optionally followed by ~N (N-th first-parent ancestor) and ^ or ^N (N-th
// parent), repeated.
func (r *Repo) Resolve(ctx context.Context, rev string) (Resolved, error) {
	base, ops, err := splitRev(rev)
	if err != nil {
		return Resolved{}, err
	}
	res, err := r.resolveBase(ctx, base)
	if err != nil {
		return Resolved{}, err
	}
	if len(ops) > 0 {
		res.Branch = ""
	}
	parent := func(idx int) error {
		if idx >= len(res.Commit.Parents) {
			return fmt.Errorf("%s: commit %s has no such parent: %w", rev, res.ID.Short(), ErrUnknownRevision)
		}
		res.ID = res.Commit.Parents[idx]
		res.Commit, err = dag.LoadCommit(ctx, r.Store, res.ID)
		return err
	}
	for _, op := range ops {
		switch {
		case op.caret && op.n == 0: // ^0 is the commit itself
		case op.caret:
			if err := parent(op.n - 1); err != nil {
				return Resolved{}, err
			}
		default:
			for i := 0; i < op.n; i++ {
				if err := parent(0); err != nil {
					return Resolved{}, err
				}
			}
		}
	}
	return res, nil
}

type revOp struct {
	caret bool
	n     int
}

func splitRev(rev string) (string, []revOp, error) {
	i := strings.IndexAny(rev, "~^")
	if i < 0 {
		return rev, nil, nil
	}
	base, rest := rev[:i], rev[i:]
	if base == "" {
		return "", nil, fmt.Errorf("%q: %w", rev, ErrUnknownRevision)
	}
	var ops []revOp
	for rest != "" {
		op := revOp{caret: rest[0] == '^'}
		rest = rest[1:]
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if j == 0 {
			op.n = 1
		} else {
			n, err := strconv.Atoi(rest[:j])
			if err != nil || n > 1<<20 {
				return "", nil, fmt.Errorf("%q: %w", rev, ErrUnknownRevision)
			}
			op.n = n
		}
		rest = rest[j:]
		if rest != "" && rest[0] != '~' && rest[0] != '^' {
			return "", nil, fmt.Errorf("%q: %w", rev, ErrUnknownRevision)
		}
		ops = append(ops, op)
	}
	return base, ops, nil
}

func (r *Repo) resolveBase(ctx context.Context, base string) (Resolved, error) {
	load := func(id dag.ID, branch string) (Resolved, error) {
		c, err := dag.LoadCommit(ctx, r.Store, id)
		if err != nil {
			return Resolved{}, fmt.Errorf("%s: %w", base, err)
		}
		return Resolved{ID: id, Commit: c, Branch: branch}, nil
	}
	if base == "HEAD" || base == "@" {
		id, h, err := r.Store.ResolveHead(ctx)
		if err != nil {
			return Resolved{}, err
		}
		if id.IsZero() {
			return Resolved{}, fmt.Errorf("HEAD: branch %s has no commits yet: %w", strings.TrimPrefix(h.Ref, "refs/heads/"), ErrUnknownRevision)
		}
		return load(id, "")
	}
	for _, cand := range []struct{ ref, branch string }{
		{base, ""},
		{"refs/heads/" + base, base},
		{"refs/tags/" + base, ""},
		{"refs/remotes/" + base, ""},
	} {
		if !strings.HasPrefix(cand.ref, "refs/") {
			continue
		}
		id, err := r.Store.Ref(ctx, cand.ref)
		if err == nil {
			b := cand.branch
			if b == "" && strings.HasPrefix(cand.ref, "refs/heads/") {
				b = strings.TrimPrefix(cand.ref, "refs/heads/")
			}
			return load(id, b)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return Resolved{}, err
		}
	}
	if dag.IsHexPrefix(base) {
		id, err := r.Store.ResolvePrefix(ctx, base, dag.KindCommit)
		if err == nil {
			return load(id, "")
		}
		if errors.Is(err, store.ErrAmbiguous) {
			return Resolved{}, fmt.Errorf("%s: %w", base, err)
		}
	}
	return Resolved{}, fmt.Errorf("%q: %w", base, ErrUnknownRevision)
}

// ResolveTreePath resolves REV:PATH (or REV alone, meaning its root tree).
func (r *Repo) ResolveTreePath(ctx context.Context, spec string) (Resolved, string, dag.TreeEntry, error) {
	rev, path, _ := strings.Cut(spec, ":")
	if rev == "" {
		rev = "HEAD"
	}
	res, err := r.Resolve(ctx, rev)
	if err != nil {
		return res, "", dag.TreeEntry{}, err
	}
	path = strings.Trim(path, "/")
	e, err := dag.LookupPath(ctx, r.Store, res.Commit.Tree, path)
	if err != nil {
		if errors.Is(err, dag.ErrNotFound) {
			return res, path, e, fmt.Errorf("path %q does not exist in %s: %w", path, rev, ErrPathspec)
		}
		return res, path, e, err
	}
	return res, path, e, nil
}
