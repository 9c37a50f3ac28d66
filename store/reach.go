package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/dxdata/dx/dag"
)

// WalkOptions configure Walk.
type WalkOptions struct {
	// OnMissing, if set, is called for an object that cannot be read
	// (missing or corrupt) and the walk goes on; otherwise Walk stops with
	// that error.
	OnMissing func(id dag.ID, kind dag.Kind, err error)
	// Visited, if set, is consulted and filled: objects already in it are
	// not visited again (lets callers share work across calls).
	Visited map[dag.ID]struct{}
	// SkipCommitParents walks only the given commits, not their history.
	SkipCommitParents bool
}

// Root is a starting point of a walk: an object and its kind.
type Root struct {
	ID   dag.ID
	Kind dag.Kind
}

// Walk calls fn once for every object reachable from roots: commits (and
// their parents, but those cut below a shallow commit), trees, file
// nodes, chunks and models. Metadata objects are
// read and decoded; chunks are only named (their existence is checked
// against the index).
func (s *Store) Walk(ctx context.Context, roots []Root, o WalkOptions, fn func(id dag.ID, kind dag.Kind) error) error {
	seen := o.Visited
	if seen == nil {
		seen = map[dag.ID]struct{}{}
	}
	stack := append([]Root(nil), roots...)
	fail := func(r Root, err error) error {
		if o.OnMissing != nil {
			o.OnMissing(r.ID, r.Kind, err)
			return nil
		}
		return err
	}
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if _, ok := seen[r.ID]; ok {
			continue
		}
		seen[r.ID] = struct{}{}
		if r.Kind == dag.KindChunk {
			loc, err := s.Locate(ctx, r.ID)
			if err == nil && loc.Kind != dag.KindChunk {
				err = fmt.Errorf("object %s is a %s, not a chunk: %w", r.ID.Short(), loc.Kind, ErrCorrupt)
			}
			if err != nil {
				if err := fail(r, err); err != nil {
					return err
				}
				continue
			}
			if err := fn(r.ID, r.Kind); err != nil {
				return err
			}
			continue
		}
		b, err := s.Get(ctx, r.Kind, r.ID)
		if errors.Is(err, dag.ErrShallow) {
			continue // the history is cut there
		}
		if err != nil {
			if err := fail(r, err); err != nil {
				return err
			}
			continue
		}
		links, err := dag.Links(r.Kind, b, !o.SkipCommitParents)
		if err != nil {
			if err := fail(r, fmt.Errorf("object %s: %w", r.ID.Short(), err)); err != nil {
				return err
			}
			continue
		}
		children := make([]Root, len(links))
		for i, l := range links {
			children[i] = Root{l.ID, l.Kind}
		}
		if err := fn(r.ID, r.Kind); err != nil {
			return err
		}
		for i := len(children) - 1; i >= 0; i-- {
			if _, ok := seen[children[i].ID]; !ok {
				stack = append(stack, children[i])
			}
		}
	}
	return nil
}

// RefRoots returns every ref and a detached HEAD as walk roots, with kinds
// read from the index. Extra roots are appended.
func (s *Store) RefRoots(ctx context.Context, extra ...dag.ID) ([]Root, error) {
	refs, names, err := s.Refs(ctx, "refs/")
	if err != nil {
		return nil, err
	}
	ids := make([]dag.ID, 0, len(names)+1+len(extra))
	for _, n := range names {
		ids = append(ids, refs[n])
	}
	h, err := s.Head(ctx)
	if err != nil {
		return nil, err
	}
	if h.Detached() {
		ids = append(ids, h.ID)
	}
	ids = append(ids, extra...)
	var roots []Root
	for _, id := range ids {
		loc, err := s.Locate(ctx, id)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				roots = append(roots, Root{id, dag.KindCommit})
				continue
			}
			return nil, err
		}
		roots = append(roots, Root{id, loc.Kind})
	}
	return roots, nil
}
