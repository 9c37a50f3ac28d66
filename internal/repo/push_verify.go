package repo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// verifyPushed checks a pushed branch or tag when a commit it would
// send was made with --no-verify (one reachable from head and not from
// the remote's branch of that name, as last fetched or pushed, above its
// generation): head's tables must then keep their rules and the data
// contract, checked as a commit checks them, against the remote's
// version of the branch (all of them for a branch the remote lacks).
func (r *Repo) verifyPushed(ctx context.Context, remoteName, ref string, head dag.ID) error {
	if !strings.HasPrefix(ref, "refs/heads/") && !strings.HasPrefix(ref, "refs/tags/") {
		return nil
	}
	var base *dag.Commit
	var baseID dag.ID
	if b, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
		tracking, err := r.Store.Ref(ctx, "refs/remotes/"+remoteName+"/"+b)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		default:
			if base, err = dag.LoadCommit(ctx, r.Store, tracking); err != nil {
				return err
			}
			baseID = tracking
		}
	}
	unverified, top, err := r.unverifiedSince(ctx, head, baseID, base)
	if err != nil || unverified.IsZero() {
		return err
	}
	var baseTree dag.ID
	if base != nil {
		baseTree = base.Tree
	}
	changes, err := diffChanges(ctx, r.Store, baseTree, top.Tree)
	if err != nil {
		return err
	}
	if err := r.verifyTables(ctx, baseTree, top.Tree, changes, verifyRun{stats: &VerifyStats{}}); err != nil {
		return &UnverifiedPushError{Ref: ref, Commit: unverified, Err: err}
	}
	return nil
}

// unverifiedSince finds a commit made with --no-verify among those
// reachable from head and not from base (above base's generation); it
// returns it (zero if none) and head's commit.
func (r *Repo) unverifiedSince(ctx context.Context, head, baseID dag.ID, base *dag.Commit) (dag.ID, *dag.Commit, error) {
	var floor uint64
	if base != nil {
		floor = base.Generation
	}
	var top *dag.Commit
	seen := map[dag.ID]bool{baseID: true}
	queue := []dag.ID{head}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if seen[id] {
			continue
		}
		seen[id] = true
		c, err := dag.LoadCommit(ctx, r.Store, id)
		if errors.Is(err, dag.ErrShallow) {
			continue // cut: the remote it came from holds no more
		}
		if err != nil {
			return dag.ZeroID, nil, err
		}
		if top == nil {
			top = c
		}
		if base != nil && c.Generation <= floor {
			continue
		}
		if c.Meta[unverifiedMeta] != "" {
			return id, top, nil
		}
		queue = append(queue, c.Parents...)
	}
	return dag.ZeroID, top, nil
}

// UnverifiedPushError: a push would send a commit made with --no-verify
// whose data breaks its rules; nothing was sent.
type UnverifiedPushError struct {
	Ref    string
	Commit dag.ID // one of the commits made with --no-verify
	Err    error
}

func (e *UnverifiedPushError) Error() string {
	return fmt.Sprintf("push %s: it holds commits made with --no-verify (%s) and %v", ShortRef(e.Ref), e.Commit.Short(), e.Err)
}

func (e *UnverifiedPushError) Unwrap() error { return e.Err }
