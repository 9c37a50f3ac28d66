package repo

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/store"
)

// RefChange is a local ref a fetch moved.
type RefChange struct {
	Name string `json:"name"`
	Old  dag.ID `json:"old"`
	New  dag.ID `json:"new"`
	Note string `json:"note,omitempty"`
}

// FetchResult says what a fetch did.
type FetchResult struct {
	Remote string `json:"remote"`
	remote.FetchResult
	Refs []RefChange `json:"refs"`
}

// Fetch downloads a remote's branches, tags and models: its branches
// become refs/remotes/NAME/BRANCH; tags and models the local repository
// lacks are created (existing ones that differ are kept and reported).
func (r *Repo) Fetch(ctx context.Context, remoteName string) (*FetchResult, error) {
	return r.fetch(ctx, remoteName, r.sparse)
}

// fetch fetches file content only under paths when paths is non-nil (a
// sparse repository, or one becoming sparse).
func (r *Repo) fetch(ctx context.Context, remoteName string, paths []string) (*FetchResult, error) {
	name, be, ix, err := r.connect(ctx, remoteName)
	if err != nil {
		return nil, err
	}
	refs, err := remote.ListRefs(ctx, be)
	if err != nil {
		return nil, err
	}
	if len(refs) > 0 {
		if err := remote.CheckFormat(ctx, be); err != nil {
			return nil, err
		}
	}
	var roots []dag.Link
	for _, rf := range refs {
		kind := dag.KindCommit
		if strings.HasPrefix(rf.Name, "refs/models/") {
			kind = dag.KindModel
		}
		roots = append(roots, dag.Link{ID: rf.ID, Kind: kind})
	}
	fetched, err := remote.Fetch(ctx, r.Store, be, ix, roots, r.fetchOptions(paths))
	if err != nil {
		return nil, err
	}
	res := &FetchResult{Remote: name, FetchResult: *fetched}
	var ups []store.RefUpdate
	seen := map[string]bool{}
	for _, rf := range refs {
		var local string
		switch {
		case strings.HasPrefix(rf.Name, "refs/heads/"):
			local = "refs/remotes/" + name + "/" + strings.TrimPrefix(rf.Name, "refs/heads/")
		case strings.HasPrefix(rf.Name, "refs/tags/"), strings.HasPrefix(rf.Name, "refs/models/"):
			local = rf.Name
		default:
			continue
		}
		seen[local] = true
		cur, err := r.Store.Ref(ctx, local)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if cur == rf.ID {
			continue
		}
		if !cur.IsZero() && !strings.HasPrefix(local, "refs/remotes/") {
			res.Refs = append(res.Refs, RefChange{Name: local, Old: cur, New: rf.ID, Note: "differs from the remote; kept"})
			continue
		}
		ups = append(ups, store.RefUpdate{Name: local, Old: cur, New: rf.ID})
		res.Refs = append(res.Refs, RefChange{Name: local, Old: cur, New: rf.ID})
	}
	// Branches deleted on the remote.
	tracked, names, err := r.Store.Refs(ctx, "refs/remotes/"+name+"/")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if !seen[n] {
			ups = append(ups, store.RefUpdate{Name: n, Old: tracked[n]})
			res.Refs = append(res.Refs, RefChange{Name: n, Old: tracked[n], Note: "deleted on the remote"})
		}
	}
	if len(ups) > 0 {
		if err := r.Store.Transaction(ctx, ups, nil, "fetch "+name); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// fetchOptions limit file content to paths when paths is non-nil.
func (r *Repo) fetchOptions(paths []string) remote.Options {
	to := r.transferOptions()
	if paths != nil {
		// The table attributes come too, wherever the sparse paths
		// are: row diffs and merges of the tables need them.
		to.Paths = append(slices.Clone(paths), table.AttributesFile)
		// A sparse store may lack what its objects name: walk through.
		to.Complete = r.sparse != nil
	}
	return to
}

// FetchBranch downloads what the local store lacks of the commit head, read
// from the remote's branch, and moves the remote-tracking ref
// refs/remotes/REMOTE/BRANCH to it. Unlike Fetch it touches no other ref.
func (r *Repo) FetchBranch(ctx context.Context, remoteName, branch string, head dag.ID) (*FetchResult, error) {
	name, be, ix, err := r.connect(ctx, remoteName)
	if err != nil {
		return nil, err
	}
	if err := remote.CheckFormat(ctx, be); err != nil {
		return nil, err
	}
	fetched, err := remote.Fetch(ctx, r.Store, be, ix, []dag.Link{{ID: head, Kind: dag.KindCommit}}, r.fetchOptions(r.sparse))
	if err != nil {
		return nil, err
	}
	res := &FetchResult{Remote: name, FetchResult: *fetched}
	tracking := "refs/remotes/" + name + "/" + branch
	cur, err := r.Store.Ref(ctx, tracking)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if cur != head {
		if err := r.Store.Transaction(ctx, []store.RefUpdate{{Name: tracking, Old: cur, New: head}}, nil, "fetch "+name); err != nil {
			return nil, err
		}
		res.Refs = []RefChange{{Name: tracking, Old: cur, New: head}}
	}
	return res, nil
}
