package repo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/modelstage"
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

// Fetch downloads a remote's branches, tags, models and stages: its
// branches become refs/remotes/NAME/BRANCH; tags, models and stages the
// local repository lacks are created; models and stages move forward along
// their chains (versions, moves) when the remote's descend from the local
// ones; other differences are kept and reported.
func (r *Repo) Fetch(ctx context.Context, remoteName string) (*FetchResult, error) {
	return r.fetch(ctx, remoteName, r.sparse, nil)
}

// fetch fetches file content only under paths when paths is non-nil (a
// sparse repository, or one becoming sparse); ahead, if set, starts
// writing its branch's new files while their chunks download.
func (r *Repo) fetch(ctx context.Context, remoteName string, paths []string, ahead *pullAhead) (*FetchResult, error) {
	name, be, refs, ix, err := r.connectRefs(ctx, remoteName)
	if err != nil {
		return nil, err
	}
	var roots []dag.Link
	for _, rf := range refs {
		roots = append(roots, dag.Link{ID: rf.ID, Kind: remote.RefKind(rf.Name)})
	}
	opts := r.fetchOptions(paths)
	for _, rf := range refs {
		if ahead != nil && rf.Name == ahead.ref {
			opts.Ahead = func(ctx context.Context, get dag.Getter) func(dag.ID, []byte) { return ahead.start(ctx, get, rf.ID) }
		}
	}
	fetched, err := remote.Fetch(ctx, r.Store, be, ix, roots, opts)
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
		case strings.HasPrefix(rf.Name, "refs/tags/"), strings.HasPrefix(rf.Name, remote.ModelsPrefix),
			strings.HasPrefix(rf.Name, remote.StagesPrefix):
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
			note, err := r.keptNote(ctx, local, cur, rf.ID)
			if err != nil {
				return nil, err
			}
			if note != "" {
				res.Refs = append(res.Refs, RefChange{Name: local, Old: cur, New: rf.ID, Note: note})
				continue
			}
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

// keptNote says why a fetch keeps local ref name at cur rather than move
// it to the remote's id, or "" when it moves: a model or stage whose
// remote chain descends from cur moves forward; tags never move.
func (r *Repo) keptNote(ctx context.Context, name string, cur, id dag.ID) (string, error) {
	kind := remote.RefKind(name)
	if kind != dag.KindModel && kind != dag.KindStage {
		return "differs from the remote; kept", nil
	}
	if ok, err := dag.ChainDescends(ctx, r.Store, kind, cur, id); err != nil || ok {
		return "", err
	}
	if ok, err := dag.ChainDescends(ctx, r.Store, kind, id, cur); err != nil || ok {
		return "ahead of the remote; kept", err
	}
	return "diverged from the remote; kept (dx push --force replaces the remote's)", nil
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
	name, be, ix, err := r.connect(ctx, remoteName, false)
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

// RemoteStage is a model's stage as a remote holds it.
type RemoteStage struct {
	Remote string       `json:"remote"`
	Ref    remote.Ref   `json:"ref"`   // the stage's ref there (zero ID: no such stage)
	Change *StageChange `json:"stage"` // its latest move; nil when the remote has none
	// Version is the version the stage is on, its artifact fetched; nil
	// when the remote has no such stage or it was demoted.
	Version *ModelVersion `json:"version,omitempty"`
	Fetched *FetchResult  `json:"fetched"`
}

// FetchStage reads a model's stage from a remote (one GET of its ref),
// fetches what the local store lacks of it (its moves and the versions
// they name with all they name, as Fetch would: artifacts, and training
// data within the sparse paths of a sparse repository) and moves the
// local stage ref as Fetch does. It touches no other ref. A follower of the stage (dx
// subscribe --model) polls the ref itself with remote.ReadRef on
// modelstage.Ref(model, stage) and calls this when it moved.
func (r *Repo) FetchStage(ctx context.Context, remoteName, model, stage string) (*RemoteStage, error) {
	if err := modelstage.ValidName(stage); err != nil {
		return nil, err
	}
	name, be, err := r.OpenRemote(ctx, remoteName)
	if err != nil {
		return nil, err
	}
	ref := modelstage.Ref(model, stage)
	rf, err := remote.ReadRef(ctx, be, ref)
	if err != nil {
		return nil, err
	}
	out := &RemoteStage{Remote: name, Ref: rf, Fetched: &FetchResult{Remote: name}}
	if rf.ID.IsZero() {
		return out, nil
	}
	if err := remote.CheckFormat(ctx, be); err != nil {
		return nil, err
	}
	// The index after the ref (see remote.ReadHeads).
	ix, err := r.remoteIndex(ctx, name, be, false)
	if err != nil {
		return nil, err
	}
	fetched, err := remote.Fetch(ctx, r.Store, be, ix, []dag.Link{{ID: rf.ID, Kind: dag.KindStage}}, r.fetchOptions(r.sparse))
	if err != nil {
		return nil, err
	}
	out.Fetched.FetchResult = *fetched
	// Check what the remote's ref names before the local ref takes it.
	e, err := modelstage.Current(ctx, r.Store, ref, rf.ID)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out.Change = r.stageChange(ctx, e)
	if !e.Removed() {
		if out.Version, err = r.stagedVersion(ctx, e); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	cur, err := r.Store.Ref(ctx, ref)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if cur != rf.ID {
		note := ""
		if !cur.IsZero() {
			if note, err = r.keptNote(ctx, ref, cur, rf.ID); err != nil {
				return nil, err
			}
		}
		if note == "" {
			if err := r.Store.Transaction(ctx, []store.RefUpdate{{Name: ref, Old: cur, New: rf.ID}}, nil, "fetch "+name); err != nil {
				return nil, err
			}
		}
		out.Fetched.Refs = []RefChange{{Name: ref, Old: cur, New: rf.ID, Note: note}}
	}
	return out, nil
}
