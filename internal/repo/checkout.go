package repo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dxdata/dx/dag"
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
}

// LocalChangesError lists the paths whose local changes a checkout would
// overwrite. It wraps ErrLocalChanges.
type LocalChangesError struct{ Paths []string }

func (e *LocalChangesError) Error() string {
	const show = 10
	p := e.Paths
	more := ""
	if len(p) > show {
		more = fmt.Sprintf(" and %d more", len(p)-show)
		p = p[:show]
	}
	return fmt.Sprintf("local changes to %s%s would be overwritten (commit them, or use --force to discard them)", strings.Join(p, ", "), more)
}

func (e *LocalChangesError) Unwrap() error { return ErrLocalChanges }

// CheckoutResult says what a checkout did.
type CheckoutResult struct {
	Target   dag.ID `json:"target"`
	Branch   string `json:"branch,omitempty"`
	Written  int    `json:"files_written"`
	Removed  int    `json:"files_removed"`
	Bytes    int64  `json:"bytes_written"`
	Detached bool   `json:"detached"`
}

type planStep struct {
	path  string
	entry *dag.TreeEntry // nil: remove
	// old, if set, is what the worktree file holds now (it matched the
	// tree the plan starts from): chunks the new content shares with it
	// are copied from the file instead of decompressed from the store.
	old *dag.TreeEntry
	// pre, if set, names a temporary file in the worktree that holds the
	// new entry already: it is renamed into place.
	pre string
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
	headID, head, head0, err := r.headCommit(ctx)
	if err != nil {
		return nil, err
	}
	headTree := treeOf(head)
	snap, err := r.takeSnapshot(ctx, store.IngestHash, nil, "scanning", dag.ZeroID)
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
	type local struct{ head, wt *dag.TreeEntry }
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
			if sameEntry(l.wt, t) {
				continue // already as the target wants it
			}
			if !o.Force {
				conflicts = append(conflicts, p)
				continue
			}
		} else {
			old = fromHead[p] // the file is as HEAD has it
		}
		plan = append(plan, planStep{path: p, entry: t, old: old})
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
			plan = append(plan, planStep{path: p, entry: l.head})
		}
	}
	// A file to be written where an untracked file or directory stands in
	// the way of one of its parent directories.
	if !o.Force {
		for _, s := range plan {
			if s.entry == nil {
				continue
			}
			for dir := path.Dir(s.path); dir != "."; dir = path.Dir(dir) {
				if l, ok := locals[dir]; ok && l.head == nil && l.wt != nil {
					conflicts = append(conflicts, dir)
				}
			}
		}
	}
	if len(conflicts) > 0 {
		sort.Strings(conflicts)
		return nil, &LocalChangesError{Paths: dedupe(conflicts)}
	}
	res := &CheckoutResult{Target: target.ID}
	if err := r.apply(ctx, plan, o.Force, res); err != nil {
		return nil, err
	}
	if len(o.Paths) > 0 {
		return res, nil
	}
	var newHead *store.Head
	if (rev == "HEAD" || rev == "@") && !head0.Detached() {
		// Checking out HEAD restores the worktree and stays on the branch.
		target.Branch = strings.TrimPrefix(head0.Ref, "refs/heads/")
	}
	if target.Branch != "" {
		newHead = &store.Head{Ref: "refs/heads/" + target.Branch}
		res.Branch = target.Branch
	} else {
		newHead = &store.Head{ID: target.ID}
		res.Detached = true
	}
	_ = headID
	if err := r.Store.Transaction(ctx, nil, newHead, "checkout: moving to "+rev); err != nil {
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

// apply carries out a checkout plan inside the worktree: removals first,
// then writes. Every write goes through an os.Root of the worktree and
// checks that no parent is a symlink, so nothing is written outside the
// worktree or through a link, whatever the tree says.
func (r *Repo) apply(ctx context.Context, plan []planStep, force bool, res *CheckoutResult) error {
	root, err := os.OpenRoot(r.Root)
	if err != nil {
		return err
	}
	defer root.Close()
	sort.Slice(plan, func(i, j int) bool { return plan[i].path < plan[j].path })
	var writes []planStep
	var total int64
	dirs := map[string]bool{}
	kept := plan[:0]
	for _, s := range plan {
		// A sparse worktree holds its sparse paths only.
		if r.inSparse(s.path) {
			kept = append(kept, s)
		}
	}
	plan = kept
	for _, s := range plan {
		if err := checkPath(s.path); err != nil {
			return err
		}
		if s.entry != nil {
			writes = append(writes, s)
			total += int64(s.entry.Size)
			continue
		}
		if err := root.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", s.path, err)
		}
		res.Removed++
		dirs[path.Dir(s.path)] = true
	}
	// Prune directories emptied by removals (deepest first).
	var ds []string
	for d := range dirs {
		for ; d != "."; d = path.Dir(d) {
			ds = append(ds, d)
		}
	}
	sort.Slice(ds, func(i, j int) bool { return len(ds[i]) > len(ds[j]) })
	for _, d := range ds {
		_ = root.Remove(d) // fails harmlessly when not empty
	}
	bar := r.opts.Progress.Start("checking out", total, true)
	defer bar.Done()
	var mu sync.Mutex
	cached := map[string]store.StatEntry{}
	jobs := make(chan planStep)
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range jobs {
				if ctx.Err() != nil {
					continue
				}
				st, n, err := r.writeEntry(ctx, root, s.path, *s.entry, s.old, s.pre, force, bar)
				if err != nil {
					select {
					case errc <- err:
					default:
					}
					cancel()
					continue
				}
				mu.Lock()
				cached[s.path] = st
				res.Written++
				res.Bytes += n
				mu.Unlock()
			}
		}()
	}
	for _, s := range writes {
		select {
		case jobs <- s:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	var removed []string
	for _, s := range plan {
		if s.entry == nil {
			removed = append(removed, s.path)
		}
	}
	settleRacy(cached)
	// Record what was written, even after an error, so a retry is cheap.
	if err := r.Store.UpdateStatCache(ctx, cached, removed); err != nil {
		return err
	}
	select {
	case err := <-errc:
		return err
	default:
	}
	return nil
}

// settleMin is the size of just-written files above which settleRacy waits
// out the racy window rather than leave them to be read again.
const settleMin = 32 << 20

// settleRacy sets when the stat entries of files just written were
// recorded. An entry is trusted only if its file's mtime is older than
// that by the racy window (store.RacyWindowNs), and a file written a moment
// ago is not: the next command would read it all again to be sure of it
// (a second for a 1 GiB table). So when that is a lot of bytes, it waits
// the rest of the window first, ~20 ms at most. Wall clock, not opts.Now:
// DX_DATE pins commit times, not the racy-clean rule.
func settleRacy(entries map[string]store.StatEntry) {
	var racy int64
	var latest int64
	now := time.Now().UnixNano()
	for _, e := range entries {
		if e.MtimeNs >= now-store.RacyWindowNs && e.Mode.IsFile() {
			racy += e.Size
			latest = max(latest, e.MtimeNs)
		}
	}
	if racy >= settleMin {
		if wait := time.Duration(latest + store.RacyWindowNs + 1e6 - now); wait > 0 && wait <= 2*time.Duration(store.RacyWindowNs) {
			time.Sleep(wait)
		}
		now = time.Now().UnixNano()
	}
	for p, e := range entries {
		e.Recorded = now
		entries[p] = e
	}
}

// checkPath rejects a path that could escape the worktree; tree decoding
// already guarantees this, so failing here means a bug or a hostile store.
func checkPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || path.Clean(p) != p {
		return fmt.Errorf("refusing unsafe path %q: %w", p, store.ErrCorrupt)
	}
	for _, c := range strings.Split(p, "/") {
		if err := dag.ValidName(c); err != nil || c == DirName {
			return fmt.Errorf("refusing unsafe path %q: %w", p, store.ErrCorrupt)
		}
	}
	return nil
}

// prepareParents creates the parent directories of p, refusing to go
// through a symlink and (with force) replacing files that stand in the way.
func prepareParents(root *os.Root, p string, force bool) error {
	parts := strings.Split(p, "/")
	cur := ""
	for _, c := range parts[:len(parts)-1] {
		if cur == "" {
			cur = c
		} else {
			cur += "/" + c
		}
		fi, err := root.Lstat(cur)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := root.Mkdir(cur, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("mkdir %s: %w", cur, err)
			}
			// Another writer may have raced us; re-check what is there.
			if fi, err = root.Lstat(cur); err != nil {
				return err
			}
			if !fi.IsDir() {
				return fmt.Errorf("refusing to write %s: %s is not a directory", p, cur)
			}
		case err != nil:
			return err
		case fi.IsDir():
		case force:
			if err := root.Remove(cur); err != nil {
				return fmt.Errorf("replace %s: %w", cur, err)
			}
			if err := root.Mkdir(cur, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
		case fi.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("refusing to write %s through the symlink %s", p, cur)
		default:
			return fmt.Errorf("refusing to write %s: %s is a file", p, cur)
		}
	}
	return nil
}

var tmpSeq struct {
	sync.Mutex
	n int
}

// tmpPrefix starts the names of checkout's temporary files. A scan removes
// any it finds (left by a killed process) and never versions them.
const tmpPrefix = ".dx-tmp-"

func tmpName(p string) string {
	tmpSeq.Lock()
	tmpSeq.n++
	n := tmpSeq.n
	tmpSeq.Unlock()
	return fmt.Sprintf("%s/%s%d-%d", path.Dir(p), tmpPrefix, os.Getpid(), n)
}

// writeTemp writes a regular file (mode: ModeFile or ModeExec) under a
// temporary name beside p, with fill, and returns that name; on an error
// nothing is left.
func writeTemp(root *os.Root, p string, mode dag.Mode, fill func(f *os.File) error) (string, error) {
	perm := os.FileMode(0o644)
	if mode == dag.ModeExec {
		perm = 0o755
	}
	tmp := tmpName(p)
	f, err := root.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return "", err
	}
	err = fill(f)
	if err == nil {
		err = f.Chmod(perm) // umask may have narrowed it
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		root.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// writeEntry writes one file or symlink at p (atomically, by rename) and
// returns its stat entry.
func (r *Repo) writeEntry(ctx context.Context, root *os.Root, p string, e dag.TreeEntry, old *dag.TreeEntry, pre string, force bool, bar interface{ Add(int64) }) (store.StatEntry, int64, error) {
	if err := prepareParents(root, p, force); err != nil {
		return store.StatEntry{}, 0, err
	}
	if fi, err := root.Lstat(p); err == nil && fi.IsDir() {
		if !force {
			return store.StatEntry{}, 0, fmt.Errorf("refusing to replace directory %s with a file", p)
		}
		if err := root.RemoveAll(p); err != nil {
			return store.StatEntry{}, 0, err
		}
	}
	tmp := tmpName(p)
	var n int64
	switch {
	case pre != "":
		tmp, n = pre, int64(e.Size)
		bar.Add(n)
	case e.Mode == dag.ModeSymlink:
		target, err := r.Store.ReadAll(ctx, e.ID, 64<<10)
		if err != nil {
			return store.StatEntry{}, 0, fmt.Errorf("%s: %w", p, err)
		}
		if err := root.Symlink(string(target), tmp); err != nil {
			return store.StatEntry{}, 0, fmt.Errorf("%s: %w", p, err)
		}
		n = int64(len(target))
	case e.Mode == dag.ModeFile, e.Mode == dag.ModeExec:
		var err error
		tmp, err = writeTemp(root, p, e.Mode, func(f *os.File) error {
			var err error
			if old != nil && old.Mode.IsFile() {
				n, err = r.patchFile(ctx, root, p, old.ID, e.ID, f, bar)
			} else {
				n, err = r.Store.CopyFile(ctx, e.ID, f, store.CopyOptions{Sparse: true, Progress: bar.Add})
			}
			if err == nil && n != int64(e.Size) {
				err = fmt.Errorf("content has %d bytes, tree says %d: %w", n, e.Size, store.ErrCorrupt)
			}
			return err
		})
		if err != nil {
			return store.StatEntry{}, 0, fmt.Errorf("%s: %w", p, err)
		}
	default:
		return store.StatEntry{}, 0, fmt.Errorf("%s: cannot check out mode %s", p, e.Mode)
	}
	if err := replaceFile(root, tmp, p); err != nil {
		root.Remove(tmp)
		return store.StatEntry{}, 0, fmt.Errorf("%s: %w", p, err)
	}
	fi, err := root.Lstat(p)
	if err != nil {
		return store.StatEntry{}, 0, err
	}
	st := statEntry(fi, e.Mode)
	st.File = e.ID
	return st, n, nil
}

// patchFile writes File id to f, taking every chunk it shares with the
// worktree file p (believed to hold File old) from that file, verified by
// its hash, and the rest from the store. A new version of a big table then
// costs reading and hashing the old file, not decompressing all of it.
func (r *Repo) patchFile(ctx context.Context, root *os.Root, p string, old, id dag.ID, f *os.File, bar interface{ Add(int64) }) (int64, error) {
	var oldChunks, chunks []dag.ChunkRef
	collect := func(dst *[]dag.ChunkRef) func(c dag.ChunkRef) error {
		return func(c dag.ChunkRef) error { *dst = append(*dst, c); return nil }
	}
	if err := dag.WalkFile(ctx, r.Store, old, collect(&oldChunks)); err != nil {
		return 0, err
	}
	if err := dag.WalkFile(ctx, r.Store, id, collect(&chunks)); err != nil {
		return 0, err
	}
	at := make(map[dag.ID]int64, len(oldChunks))
	var off int64
	for _, c := range oldChunks {
		if _, ok := at[c.ID]; !ok {
			at[c.ID] = off
		}
		off += int64(c.Len)
	}
	src, err := root.Open(p)
	if err != nil {
		return r.Store.CopyFile(ctx, id, f, store.CopyOptions{Sparse: true, Progress: bar.Add})
	}
	defer src.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	var buf []byte
	var n int64
	for _, c := range chunks {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		var b []byte
		if o, ok := at[c.ID]; ok {
			buf = slices.Grow(buf[:0], int(c.Len))[:c.Len]
			if _, err := src.ReadAt(buf, o); err == nil && dag.Hash(dag.KindChunk, buf) == c.ID {
				b = buf
			}
		}
		if b == nil { // not in the old file, or the file changed
			if buf, err = r.Store.GetInto(ctx, dag.KindChunk, c.ID, buf); err != nil {
				return n, err
			}
			b = buf
		}
		if _, err := w.Write(b); err != nil {
			return n, err
		}
		n += int64(len(b))
		bar.Add(int64(len(b)))
	}
	return n, w.Flush()
}
