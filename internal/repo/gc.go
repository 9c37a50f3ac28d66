package repo

import (
	"context"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/profile"
	"github.com/dxdata/dx/internal/worktree"
	"github.com/dxdata/dx/store"
)

// DetachedKeep is how long gc keeps the commits HEAD was at while
// detached: a commit made on a detached HEAD is on no branch once HEAD
// leaves it, and it stays recoverable (dx branch NAME ID) this long, as
// git's reflog keeps it.
const DetachedKeep = 30 * 24 * time.Hour

// GC collects unreachable objects (or, with dryRun, reports them). Besides
// refs and HEAD it keeps a merge in progress (both sides, its base and its
// result tree) and the commits HEAD's reflog names from the last
// DetachedKeep. Stat cache entries naming Files it collects are dropped
// first.
func (r *Repo) GC(ctx context.Context, dryRun bool) (*store.GCReport, error) {
	keep, err := r.gcKeep(ctx, time.Now())
	if err != nil {
		return nil, err
	}
	return r.Store.GC(ctx, store.GCOptions{DryRun: dryRun, ExtraRoots: keep, Referrers: r.referrers(), Derived: derivedNames()})
}

// derivedNames are the derived tables whose entries were computed from
// stored objects, for gc to drop those of the objects it collects: row
// counts (by File), value ranges and row ends (by chunk) end with the id, profiles
// say (profile.KeyNames).
func derivedNames() []store.DerivedNames {
	last := func(key []byte, fn func(dag.ID)) bool {
		if len(key) < dag.IDSize {
			return false
		}
		fn(dag.ID(key[len(key)-dag.IDSize:]))
		return true
	}
	return []store.DerivedNames{
		{Prefix: prefixRowCount, Names: last},
		{Prefix: prefixValueRange, Names: last},
		{Prefix: prefixRowEnds, Names: last},
		{Prefix: prefixProfile, Files: true, Names: profile.KeyNames},
	}
}

// referrers is what names stored objects from beside the store, for gc and
// fsck to keep it from naming a missing one: the stat cache.
func (r *Repo) referrers() []store.Referrer {
	return []store.Referrer{worktree.StatCacheReferrer{Index: r.Store}}
}

// gcKeep lists what gc keeps besides refs and HEAD: only stored objects,
// so that a stale name does not stop the collection.
func (r *Repo) gcKeep(ctx context.Context, now time.Time) ([]dag.ID, error) {
	var ids []dag.ID
	st, err := r.LoadMergeState()
	if err != nil {
		return nil, err
	}
	if st != nil {
		ids = append(ids, st.Ours, st.Theirs, st.Base, st.Tree)
	}
	log, err := r.Store.Reflog(ctx, "HEAD")
	if err != nil {
		return nil, err
	}
	for _, e := range log {
		if now.Sub(e.Time) > DetachedKeep {
			break // newest first
		}
		ids = append(ids, e.Old, e.New)
	}
	var keep []dag.ID
	seen := map[dag.ID]bool{}
	for _, id := range ids {
		if id.IsZero() || seen[id] {
			continue
		}
		seen[id] = true
		if ok, err := r.Store.Has(ctx, id); err != nil {
			return nil, err
		} else if ok {
			keep = append(keep, id)
		}
	}
	return keep, nil
}

// onSomeRef reports whether a branch, a tag or a remote branch holds the
// commit id (is it or a descendant of it).
func (r *Repo) onSomeRef(ctx context.Context, id dag.ID) (bool, error) {
	for _, prefix := range []string{"refs/heads/", "refs/tags/", "refs/remotes/"} {
		refs, names, err := r.Store.Refs(ctx, prefix)
		if err != nil {
			return false, err
		}
		for _, n := range names {
			if ok, err := dag.IsAncestor(ctx, r.Store, id, refs[n]); err != nil {
				return false, err
			} else if ok {
				return true, nil
			}
		}
	}
	return false, nil
}
