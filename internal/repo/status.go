package repo

import (
	"context"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/worktree"
	"github.com/dxdata/dx/store"
)

// Status is the state of the worktree against HEAD.
type Status struct {
	Branch   string   `json:"branch,omitempty"`
	Detached bool     `json:"detached"`
	Head     string   `json:"head,omitempty"`
	Changes  []Change `json:"changes"`
	// FilesRead and BytesRead count the worktree content that had to be
	// hashed (files whose stat cache entry did not match).
	FilesRead int   `json:"files_read"`
	BytesRead int64 `json:"bytes_read"`
	// Merge is the merge in progress, if one stopped on conflicts.
	Merge *MergeState `json:"merge,omitempty"`
}

// Clean reports whether the worktree matches HEAD.
func (s *Status) Clean() bool { return len(s.Changes) == 0 }

// Status compares the worktree with HEAD. It writes nothing but the stat
// cache (so the next status does not hash the same files again).
func (r *Repo) Status(ctx context.Context) (*Status, error) {
	headID, head, h, err := r.headCommit(ctx)
	if err != nil {
		return nil, err
	}
	snap, err := r.takeSnapshot(ctx, store.IngestHash, nil, "scanning", dag.ZeroID, false)
	if err != nil {
		return nil, err
	}
	st := &Status{Detached: h.Detached(), FilesRead: snap.ingestN, BytesRead: snap.ingestB}
	if st.Merge, err = r.LoadMergeState(); err != nil {
		return nil, err
	}
	if !h.Detached() {
		st.Branch = strings.TrimPrefix(h.Ref, "refs/heads/")
	}
	if !headID.IsZero() {
		st.Head = headID.String()
	}
	st.Changes, err = diffChanges(ctx, snap.getter, treeOf(head), emptyToZero(snap))
	if err != nil {
		return nil, err
	}
	if err := r.cacheHashed(ctx, snap); err != nil {
		return nil, err
	}
	return st, nil
}

// cacheHashed records the stat entries of files read by a snapshot. In
// hash mode the Files were not stored, so only entries naming Files the
// store already holds (unchanged content) are recorded.
func (r *Repo) cacheHashed(ctx context.Context, snap *snapshot) error {
	var set []worktree.PathStat
	for _, ps := range snap.hashed {
		if ok, err := r.Store.Has(ctx, ps.Entry.File); err != nil {
			return err
		} else if ok {
			set = append(set, ps)
		}
	}
	if len(set) == 0 {
		return nil
	}
	return worktree.UpdateStatCache(ctx, r.Store, set, nil)
}

// emptyToZero maps a snapshot of an empty worktree to the zero ID, which
// DiffTrees reads as an empty tree.
func emptyToZero(s *snapshot) dag.ID {
	if len(s.root.children) == 0 && !s.grafted {
		return dag.ZeroID
	}
	return s.tree
}
