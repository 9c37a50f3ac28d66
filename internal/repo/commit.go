package repo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/worktree"
	"github.com/dxdata/dx/store"
)

// CommitOptions configure Commit.
type CommitOptions struct {
	Message string
	// Paths, if set, commit only these paths (files or directories) from
	// the worktree; everything else is taken from HEAD.
	Paths      []string
	AllowEmpty bool
	Meta       map[string]string
	// ExtraParents are added after HEAD (merge commits).
	ExtraParents []dag.ID
	// NoVerify stores tables without checking them (see verify.go); the
	// commit records that it did.
	NoVerify bool
}

// CommitResult describes a new commit.
type CommitResult struct {
	ID        dag.ID   `json:"id"`
	Branch    string   `json:"branch,omitempty"`
	Changes   []Change `json:"changes"`
	FilesRead int      `json:"files_read"`
	BytesRead int64    `json:"bytes_read"`
	// Verified counts what checking its tables read; Unverified: made
	// with NoVerify.
	Verified   VerifyStats `json:"verified"`
	Unverified bool        `json:"unverified,omitempty"`
	// Profiled counts the tables profiled after the commit, those whose
	// contract sets drift thresholds.
	Profiled int `json:"tables_profiled,omitempty"`
	Stats    map[string]int64
}

// Commit records the worktree (or the given paths of it) as a new commit on
// the current branch. Write order: chunks and objects to packs, packs to
// the index, the stat cache, and last the branch ref by compare-and-swap.
func (r *Repo) Commit(ctx context.Context, o CommitOptions) (*CommitResult, error) {
	if st, err := r.LoadMergeState(); err != nil {
		return nil, err
	} else if st != nil {
		return nil, ErrMergeInProgress
	}
	return r.commit(ctx, o)
}

func (r *Repo) commit(ctx context.Context, o CommitOptions) (*CommitResult, error) {
	if strings.TrimSpace(o.Message) == "" {
		return nil, errors.New("commit: empty message (use -m)")
	}
	if err := r.checkSparsePaths(o.Paths); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	headID, head, h, err := r.headCommit(ctx)
	if err != nil {
		return nil, err
	}
	snap, err := r.takeSnapshot(ctx, store.IngestStore, o.Paths, "committing", treeOf(head), !o.NoVerify)
	if err != nil {
		return nil, err
	}
	tree := snap.tree
	if len(snap.root.children) == 0 && !snap.grafted {
		tree, err = dag.EmptyTree(ctx, r.Store)
		if err != nil {
			return nil, err
		}
	}
	changes := snap.diff
	if changes == nil || tree != snap.tree || snap.diffBase != treeOf(head) {
		// The snapshot's diff does not apply (trees rebuilt after files
		// were read again, or the empty tree).
		if changes, err = diffChanges(ctx, r.Store, treeOf(head), tree); err != nil {
			return nil, err
		}
	}
	if len(changes) == 0 && !o.AllowEmpty && len(o.ExtraParents) == 0 && head != nil {
		// Still remember what was hashed, so the next run is fast.
		if err := worktree.UpdateStatCache(ctx, r.Store, snap.hashed, nil); err != nil {
			return nil, err
		}
		return nil, ErrNothingToCommit
	}
	var verified VerifyStats
	meta := o.Meta
	if o.NoVerify {
		meta = maps.Clone(meta)
		if meta == nil {
			meta = map[string]string{}
		}
		meta[unverifiedMeta] = "true"
	} else if err := r.verifyTables(ctx, treeOf(head), tree, changes, verifyRun{statOf: snap.statOf, ingested: snap.ingested, stats: &verified}); err != nil {
		return nil, err
	}
	c := &dag.Commit{Tree: tree, Author: r.opts.Author, Time: r.opts.Now().UTC(), Message: o.Message, Meta: meta, Generation: 1}
	if head != nil {
		c.Parents = append(c.Parents, headID)
		c.Generation = head.Generation + 1
	}
	for _, p := range o.ExtraParents {
		pc, err := dag.LoadCommit(ctx, r.Store, p)
		if err != nil {
			return nil, err
		}
		c.Parents = append(c.Parents, p)
		c.Generation = max(c.Generation, pc.Generation+1)
	}
	enc, err := c.Encode()
	if err != nil {
		return nil, err
	}
	// The stat cache is written while the packs are flushed and the
	// object index is written (see worktree.WriteStatCache); all are
	// done before the ref moves.
	scDone := make(chan error, 1)
	go func() { scDone <- worktree.WriteStatCache(ctx, r.Store, snap.hashed, nil) }()
	id, err := r.Store.Put(ctx, dag.KindCommit, enc)
	if err == nil {
		err = r.Store.Flush(ctx)
	}
	if err == nil {
		err = r.Store.PersistIndex()
	}
	if scErr := <-scDone; err == nil {
		err = scErr
	}
	if err != nil {
		return nil, err
	}
	res := &CommitResult{ID: id, Changes: changes, FilesRead: snap.ingestN, BytesRead: snap.ingestB, Verified: verified, Unverified: o.NoVerify}
	if h.Detached() {
		err = r.Store.Transaction(ctx, nil, &store.Head{ID: id}, "commit: "+dag.Subject(o.Message))
	} else {
		res.Branch = strings.TrimPrefix(h.Ref, "refs/heads/")
		err = r.Store.Transaction(ctx, []store.RefUpdate{{Name: h.Ref, Old: headID, New: id}}, nil, "commit: "+dag.Subject(o.Message))
	}
	if err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	res.Profiled = r.profileForDrift(ctx, tree, changes)
	return res, nil
}
