package repo

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/worktree"
	"github.com/dxdata/dx/store"
)

// CheckoutOptions configure Checkout.
type CheckoutOptions struct {
	// Force overwrites local changes to the paths the checkout touches
	// (and, for a whole checkout, restores every tracked file).
	Force bool
	// Paths, if set, restores only these paths from the revision and
	// leaves HEAD where it is.
	Paths []string
	// NewBranch, if set, is a ref created at the revision, which HEAD
	// then follows (a clone's or a pull's first branch).
	NewBranch string
}

// CheckoutResult says what a checkout did.
type CheckoutResult struct {
	Target  dag.ID `json:"target"`
	Branch  string `json:"branch,omitempty"`
	Written int    `json:"files_written"`
	Removed int    `json:"files_removed"`
	Bytes   int64  `json:"bytes_written"`
	// Copied are the bytes of those copied unread (unverified, vouched for
	// by the stat cache) from the files they replaced, or kept where they were in the files patched
	// in place (the chunks both versions share).
	Copied int64 `json:"bytes_copied"`
	// Patched: files written in place, only their changed ranges (the
	// rest of their bytes are counted in Copied).
	Patched  int  `json:"files_patched"`
	Detached bool `json:"detached"`
	// LeftBehind is the detached HEAD the checkout left, when no branch,
	// tag or remote branch holds it: gc keeps it DetachedKeep.
	LeftBehind dag.ID `json:"left_behind,omitzero"`
}

// Checkout makes the worktree match a revision and moves HEAD to it (a
// branch name makes HEAD follow that branch; anything else detaches it).
// Local changes that the checkout does not touch are kept; those it would
// overwrite make it refuse, unless Force.
func (r *Repo) Checkout(ctx context.Context, rev string, o CheckoutOptions) (*CheckoutResult, error) {
	if err := r.checkSparsePaths(o.Paths); err != nil {
		return nil, fmt.Errorf("checkout: %w", err)
	}
	target, err := r.Resolve(ctx, rev)
	if err != nil {
		return nil, err
	}
	if r.incomplete != nil && o.Force && len(o.Paths) == 0 {
		// A forced checkout rewrites every file: the interrupted update
		// is given up.
		if err := r.discardUpdate(); err != nil {
			return nil, err
		}
		r.incomplete = nil
	}
	headID, head, current, err := r.headCommit(ctx)
	if err != nil {
		return nil, err
	}
	headTree := treeOf(head)
	snap, err := r.takeSnapshot(ctx, store.IngestHash, nil, "scanning", dag.ZeroID, false)
	if err != nil {
		return nil, err
	}
	if err := r.cacheHashed(ctx, snap); err != nil {
		return nil, err
	}
	// Two diffs, each costing what changed: HEAD→target and HEAD→worktree.
	toTarget := map[string]*dag.TreeEntry{}
	fromHead := map[string]*dag.TreeEntry{}
	if err := dag.DiffTrees(ctx, r.Store, headTree, target.Commit.Tree, func(p string, a, b *dag.TreeEntry) error {
		toTarget[p], fromHead[p] = b, a
		return nil
	}); err != nil {
		return nil, err
	}
	type local struct{ head, worktree *dag.TreeEntry }
	locals := map[string]local{}
	if err := dag.DiffTrees(ctx, snap.getter, headTree, emptyToZero(snap), func(p string, a, b *dag.TreeEntry) error {
		locals[p] = local{a, b}
		return nil
	}); err != nil {
		return nil, err
	}
	selected := func(p string) bool {
		if len(o.Paths) == 0 {
			return true
		}
		for _, s := range o.Paths {
			if s == "" || p == s || strings.HasPrefix(p, s+"/") {
				return true
			}
		}
		return false
	}
	var plan []planStep
	var conflicts []string
	seen := map[string]bool{}
	for p, t := range toTarget {
		if !selected(p) {
			continue
		}
		seen[p] = true
		var old *dag.TreeEntry
		if l, changed := locals[p]; changed {
			if sameEntry(l.worktree, t) {
				continue // already as the target wants it
			}
			if !o.Force {
				conflicts = append(conflicts, p)
				continue
			}
		} else {
			old = fromHead[p] // the file is as HEAD has it
		}
		plan = append(plan, planStep{path: p, entry: t, old: old, tracked: fromHead[p] != nil})
	}
	for p, l := range locals {
		if seen[p] || !selected(p) {
			continue
		}
		// A local change the checkout does not touch. For a path checkout
		// of a revision other than HEAD, the path's content comes from the
		// target; restore only with Force.
		if l.head == nil {
			continue // untracked file: never touched
		}
		if len(o.Paths) > 0 || o.Force {
			if !o.Force {
				conflicts = append(conflicts, p)
				continue
			}
			plan = append(plan, planStep{path: p, entry: l.head, tracked: true})
		}
	}
	// (Untracked and ignored files in the way are found by apply.)
	if len(conflicts) > 0 {
		sort.Strings(conflicts)
		return nil, &LocalChangesError{Paths: dedupe(conflicts)}
	}
	res := &CheckoutResult{Target: target.ID}
	update := updateOptions{Force: o.Force}
	if len(o.Paths) == 0 {
		// HEAD moves once the files are in place.
		if (rev == "HEAD" || rev == "@") && !current.Detached() {
			// Checking out HEAD restores the worktree and stays on the branch.
			target.Branch = strings.TrimPrefix(current.Ref, "refs/heads/")
		}
		switch {
		case o.NewBranch != "":
			update.Head = &store.Head{Ref: o.NewBranch}
			update.Refs = []store.RefUpdate{{Name: o.NewBranch, New: target.ID}}
			res.Branch = strings.TrimPrefix(o.NewBranch, "refs/heads/")
		case target.Branch != "":
			update.Head = &store.Head{Ref: "refs/heads/" + target.Branch}
			res.Branch = target.Branch
		default:
			update.Head = &store.Head{ID: target.ID}
			res.Detached = true
		}
		update.Why = "checkout: moving to " + rev
		if o.NewBranch != "" {
			update.Why = "pull: created from " + rev
		}
	}
	if len(o.Paths) == 0 && current.Detached() && headID != target.ID {
		held, err := r.onSomeRef(ctx, headID)
		if err != nil {
			return nil, err
		}
		if !held {
			res.LeftBehind = headID
		}
	}
	if err := r.apply(ctx, plan, update, res); err != nil {
		return nil, err
	}
	return res, nil
}

func sameEntry(a, b *dag.TreeEntry) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.ID == b.ID && a.Mode == b.Mode
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// settleMin is the size of just-written files above which settleRacy waits
// out the racy window rather than leave them to be read again.
const settleMin = 32 << 20

// settleRacy sets when the stat entries of files just written were
// recorded, by the file system's clock (worktree.Stamp). An entry is
// trusted only if its file's mtime is older than that, and a file written
// in the clock's current tick is not: the next command would read it all
// again to be sure of it. So when that is a lot of bytes, it waits for
// the clock to move past them (at most twice the racy window), which costs
// less than reading them. Where timestamps are fine-grained the clock has
// already moved, and nothing waits.
func settleRacy(ix worktree.Index, entries map[string]worktree.StatEntry) {
	stamp := worktree.Stamp(ix)
	var racy, latest int64
	for _, e := range entries {
		if e.Mode.IsFile() && !trustedAt(e, stamp) {
			racy += e.Size
			latest = max(latest, e.MtimeNs)
		}
	}
	// An mtime set ahead of the clock by hand is not waited for.
	newest := worktree.StatEntry{MtimeNs: latest}
	if racy >= settleMin && latest < stamp+worktree.RacyWindowNs {
		for deadline := time.Now().Add(2 * time.Duration(worktree.RacyWindowNs)); !trustedAt(newest, stamp) && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
			stamp = worktree.Stamp(ix)
		}
	}
	for p, e := range entries {
		e.Recorded = stamp
		entries[p] = e
	}
}

// trustedAt reports whether e would be trusted if recorded at stamp.
func trustedAt(e worktree.StatEntry, stamp int64) bool {
	e.Recorded = stamp
	return e.Trusted()
}
