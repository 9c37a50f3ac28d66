package repo

import (
	"context"
	"errors"
	"path/filepath"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/usage"
	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/remote/gc"
	"github.com/dxdata/dx/store"
)

// Usage groupings.
const (
	UsageByBranch = "branch" // every ref (a model with its versions and stages as one)
	UsageByModel  = "model"  // the models only
	UsageByPath   = "path"   // each file path of every version held
)

// Usage accounts for what each branch, tag and model (or each path: by
// UsageByPath) holds of the local store, or with remoteName of that
// remote (reading its indexes and the metadata of its packs, no data).
func (r *Repo) Usage(ctx context.Context, remoteName, by string) (*usage.Report, error) {
	var g usage.Trees
	var refs []usage.Ref
	if remoteName == "" {
		for _, prefix := range []string{"refs/heads/", "refs/tags/", remote.ModelsPrefix, remote.StagesPrefix} {
			ids, names, err := r.Store.Refs(ctx, prefix)
			if err != nil {
				return nil, err
			}
			for _, n := range names {
				refs = append(refs, usage.Ref{Name: n, ID: ids[n]})
			}
		}
		g = storeGraph{r.Store}
	} else {
		name, be, err := r.OpenRemote(ctx, remoteName)
		if err != nil {
			return nil, err
		}
		rs, err := remote.ListRefs(ctx, be)
		if err != nil {
			return nil, err
		}
		for _, rf := range rs {
			refs = append(refs, usage.Ref{Name: rf.Name, ID: rf.ID})
		}
		if g, err = gc.LoadGraph(ctx, be, filepath.Join(r.remoteCache(name), "index")); err != nil {
			return nil, err
		}
	}
	if by == UsageByPath {
		return usage.ByPath(ctx, g, refs)
	}
	rep, err := usage.Account(ctx, g, refs, usage.ModelGroup)
	if err != nil || by != UsageByModel {
		return rep, err
	}
	rows := rep.Rows[:0]
	for _, row := range rep.Rows {
		if strings.HasPrefix(row.Name, "model ") {
			rows = append(rows, row)
		}
	}
	rep.Rows = rows
	return rep, nil
}

// storeGraph reads the local store as a usage graph.
type storeGraph struct{ st *store.Store }

func (g storeGraph) Object(ctx context.Context, id dag.ID) ([]dag.ID, int64, bool, error) {
	loc, err := g.st.Locate(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		if _, err := g.st.Get(ctx, dag.KindCommit, id); errors.Is(err, dag.ErrShallow) {
			return nil, 0, false, err // cut by a keep policy
		}
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, err
	}
	if !loc.Kind.IsMeta() {
		return nil, int64(loc.Stored), true, nil
	}
	b, err := g.st.Get(ctx, loc.Kind, id)
	if err != nil {
		return nil, 0, false, err
	}
	ls, err := dag.Links(loc.Kind, b, true)
	if err != nil {
		return nil, 0, false, err
	}
	ids := make([]dag.ID, len(ls))
	for i, l := range ls {
		ids[i] = l.ID
	}
	return ids, int64(loc.Stored), true, nil
}

func (g storeGraph) Kind(ctx context.Context, id dag.ID) (dag.Kind, bool, error) {
	loc, err := g.st.Locate(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return 0, false, nil
	}
	return loc.Kind, err == nil, err
}

func (g storeGraph) TreeNode(ctx context.Context, id dag.ID) (*dag.TreeNode, error) {
	return dag.LoadTreeNode(ctx, g.st, id)
}
