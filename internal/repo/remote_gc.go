package repo

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/remote/gc"
	"github.com/dxdata/dx/store"
)

// DeleteRemoteBranch deletes a branch (or a tag, by its full name) on a
// remote by compare-and-swap, and the local remote-tracking ref.
func (r *Repo) DeleteRemoteBranch(ctx context.Context, remoteName, branch string) (*RefChange, error) {
	name, be, err := r.OpenRemote(ctx, remoteName)
	if err != nil {
		return nil, err
	}
	ref := branch
	if !strings.HasPrefix(ref, "refs/") {
		ref = "refs/heads/" + branch
	}
	if err := store.ValidRefName(ref); err != nil {
		return nil, err
	}
	cur, err := remote.ReadRef(ctx, be, ref)
	if err != nil {
		return nil, err
	}
	if cur.ID.IsZero() {
		return nil, fmt.Errorf("%s has no %s: %w", name, ShortRef(ref), store.ErrNotFound)
	}
	if err := remote.DeleteRef(ctx, be, cur); err != nil {
		if errors.Is(err, remote.ErrPrecondition) {
			return nil, fmt.Errorf("%s moved on %s during the delete: %w", ShortRef(ref), name, remote.ErrNonFastForward)
		}
		return nil, err
	}
	if short, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
		tracking := "refs/remotes/" + name + "/" + short
		if old, err := r.Store.Ref(ctx, tracking); err == nil {
			if err := r.Store.Transaction(ctx, []store.RefUpdate{{Name: tracking, Old: old, New: dag.ID{}}}, nil, "push --delete "+name); err != nil {
				return nil, err
			}
		}
	}
	return &RefChange{Name: ref, Old: cur.ID}, nil
}

// RemoteGC runs the collector of a remote (see package remote/gc).
func (r *Repo) RemoteGC(ctx context.Context, remoteName string, o gc.Options) (*gc.Report, error) {
	name, be, err := r.OpenRemote(ctx, remoteName)
	if err != nil {
		return nil, err
	}
	o.IndexCache = filepath.Join(r.remoteCache(name), "index")
	return gc.Run(ctx, be, o)
}
