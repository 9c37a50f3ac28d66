package repo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dxdata/dx/store"
)

// PullResult says what a pull did.
type PullResult struct {
	Fetch *FetchResult `json:"fetch"`
	Merge *MergeResult `json:"merge"`
	// WrittenAhead counts the files of a fast-forward written while
	// their chunks downloaded (see pullahead.go).
	WrittenAhead int `json:"written_ahead"`
	// AheadFromDownload and AheadFromStore count the bytes of chunks
	// written into those files as they downloaded, and from the store
	// once the fetch was done (chunks it did not download).
	AheadFromDownload int64 `json:"ahead_from_download"`
	AheadFromStore    int64 `json:"ahead_from_store"`
}

// Pull fetches and then merges the remote's copy of the current branch
// (fast-forward when possible). Paths make (or widen) a sparse
// repository: only file content under them is fetched and checked out.
func (r *Repo) Pull(ctx context.Context, remoteName string, paths []string) (*PullResult, error) {
	h, err := r.Store.Head(ctx)
	if err != nil {
		return nil, err
	}
	if h.Detached() {
		return nil, errors.New("pull: HEAD is detached; check out a branch first")
	}
	headID, _, _, err := r.headCommit(ctx)
	if err != nil {
		return nil, err
	}
	want := r.sparse
	var added []string
	if len(paths) > 0 {
		if paths, err = cleanPaths(paths); err != nil {
			return nil, fmt.Errorf("pull --path: %w", err)
		}
		if r.sparse == nil && !headID.IsZero() {
			return nil, errors.New("pull --path: this repository is not sparse (it has all its data); --path starts a sparse one (dx clone --path P, or dx init then dx pull --path P)")
		}
		for _, p := range paths {
			if r.sparse != nil && withinAny(p, r.sparse) {
				continue
			}
			if _, err := os.Lstat(filepath.Join(r.Root, filepath.FromSlash(p))); err == nil && !headID.IsZero() {
				return nil, fmt.Errorf("pull --path %s: %s exists in the worktree outside the sparse paths; move it away first", p, p)
			}
			added = append(added, p)
		}
		want = append(slices.Clone(r.sparse), added...)
	}
	var ahead *pullAhead
	if len(added) == 0 {
		ahead = r.newPullAhead(headID, h.Ref)
	}
	defer ahead.discard()
	fetched, err := r.fetch(ctx, remoteName, want, ahead)
	if err != nil {
		return nil, err
	}
	if len(added) > 0 {
		if _, err := r.addSparse(added); err != nil {
			return nil, err
		}
		if !headID.IsZero() {
			// The new paths come into the worktree as HEAD has them.
			if _, err := r.Checkout(ctx, "HEAD", CheckoutOptions{Paths: added, Force: true}); err != nil {
				return nil, err
			}
		}
	}
	branch := strings.TrimPrefix(h.Ref, "refs/heads/")
	track := "refs/remotes/" + fetched.Remote + "/" + branch
	theirs, err := r.Store.Ref(ctx, track)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("pull: remote %s has no branch %s", fetched.Remote, branch)
	}
	if err != nil {
		return nil, err
	}
	res := &PullResult{Fetch: fetched}
	if _, err := r.Store.Ref(ctx, h.Ref); errors.Is(err, store.ErrNotFound) {
		// An unborn branch starts at the remote's.
		if err := r.checkoutNewBranch(ctx, track, h.Ref); err != nil {
			return nil, err
		}
		res.Merge = &MergeResult{FastForward: true, Commit: theirs, Theirs: theirs}
		return res, nil
	}
	pre := ahead.finish(ctx)
	merged, err := r.Merge(ctx, MergeOptions{Rev: track, Message: fmt.Sprintf("Merge %s/%s into %s", fetched.Remote, branch, branch), pre: pre})
	res.Merge = merged
	if err == nil && merged.FastForward && ahead != nil {
		res.WrittenAhead = len(pre)
		res.AheadFromDownload, res.AheadFromStore = ahead.fromDownload(), ahead.fromStore.Load()
	}
	return res, err
}

// checkoutNewBranch writes rev into an empty worktree and makes HEAD the
// new branch ref at id.
func (r *Repo) checkoutNewBranch(ctx context.Context, rev, ref string) error {
	_, err := r.Checkout(ctx, rev, CheckoutOptions{NewBranch: ref})
	return err
}
