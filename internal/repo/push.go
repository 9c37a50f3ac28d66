package repo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/store"
)

// PushOptions configure Push.
type PushOptions struct {
	Remote string   // default origin
	Refs   []string // branches, tags or models (short or full names); default the current branch
	All    bool     // every branch, tag, model and stage
	Force  bool
	Jobs   int // parallel pack uploads; default 4
	// NoVerify sends commits made with --no-verify unchecked; else each
	// must keep its tables' rules and the data contract.
	NoVerify bool
}

// Push sends branches (and tags, models with their stages) to a remote.
func (r *Repo) Push(ctx context.Context, o PushOptions) (*remote.PushResult, error) {
	name, be, ix, err := r.connect(ctx, o.Remote, true)
	if err != nil {
		return nil, err
	}
	var ups []remote.Update
	add := func(ref string, id dag.ID) {
		ups = append(ups, remote.Update{Name: ref, New: id, Kind: remote.RefKind(ref), Force: o.Force})
	}
	addAll := func(prefix string) error {
		refs, names, err := r.Store.Refs(ctx, prefix)
		for _, n := range names {
			add(n, refs[n])
		}
		return err
	}
	switch {
	case o.All:
		for _, prefix := range []string{"refs/heads/", "refs/tags/", remote.ModelsPrefix, remote.StagesPrefix} {
			if err := addAll(prefix); err != nil {
				return nil, err
			}
		}
		if len(ups) == 0 {
			return nil, errors.New("push: nothing to push (no branches)")
		}
	case len(o.Refs) == 0:
		h, err := r.Store.Head(ctx)
		if err != nil {
			return nil, err
		}
		if h.Detached() {
			return nil, errors.New("push: HEAD is detached; name a branch to push")
		}
		id, err := r.Store.Ref(ctx, h.Ref)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("push: branch %s has no commits yet", ShortRef(h.Ref))
		}
		if err != nil {
			return nil, err
		}
		add(h.Ref, id)
	default:
		for _, n := range o.Refs {
			full, id, err := r.localRef(ctx, n)
			if err != nil {
				return nil, err
			}
			add(full, id)
			if model, ok := strings.CutPrefix(full, remote.ModelsPrefix); ok {
				// A model goes with its stages.
				heads, names, err := r.stageRefs(ctx, model)
				if err != nil {
					return nil, err
				}
				for _, n := range names {
					add(n, heads[n])
				}
			}
		}
	}
	if !o.NoVerify {
		for _, u := range ups {
			if err := r.verifyPushed(ctx, name, u.Name, u.New); err != nil {
				return nil, err
			}
		}
	}
	to := r.transferOptions()
	to.Parallel = o.Jobs
	res, perr := remote.Push(ctx, r.Store, be, ix, ups, to)
	if res == nil {
		return nil, perr
	}
	// Remote-tracking refs follow what the remote now holds.
	var track []store.RefUpdate
	for _, pushed := range res.Refs {
		if pushed.Err != nil || !strings.HasPrefix(pushed.Name, "refs/heads/") {
			continue
		}
		tracking := "refs/remotes/" + name + "/" + strings.TrimPrefix(pushed.Name, "refs/heads/")
		cur, err := r.Store.Ref(ctx, tracking)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return res, err
		}
		if cur != pushed.New {
			track = append(track, store.RefUpdate{Name: tracking, Old: cur, New: pushed.New})
		}
	}
	if len(track) > 0 {
		if err := r.Store.Transaction(ctx, track, nil, "push "+name); err != nil {
			return res, err
		}
	}
	return res, perr
}

// localRef resolves a branch, tag or model name to its full ref.
func (r *Repo) localRef(ctx context.Context, n string) (string, dag.ID, error) {
	candidates := []string{n}
	if !strings.HasPrefix(n, "refs/") {
		candidates = []string{"refs/heads/" + n, "refs/tags/" + n, "refs/models/" + n}
	}
	for _, c := range candidates {
		id, err := r.Store.Ref(ctx, c)
		if err == nil {
			return c, id, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return "", dag.ZeroID, err
		}
	}
	return "", dag.ZeroID, fmt.Errorf("push: %q is not a branch, tag or model: %w", n, ErrUnknownRevision)
}
