package repo

import (
	"context"
	"errors"
	"os"
	"path"
	"sync/atomic"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/progress"
	"github.com/dxdata/dx/internal/worktree"
	"github.com/dxdata/dx/merge"
)

// A pull that fast-forwards writes the new versions of the big files
// that changed while their chunks download: once the fetch has the new
// commit's trees and File nodes, the runs each new version shares with
// the worktree file it replaces are copied into a temporary file beside
// it, and each chunk downloaded is written at its places (aheadsink.go);
// once the fetch is done, the chunks it did not download (the store had
// them) are written in between, and the worktree update renames
// the file into place (prewritten, as a merged table's). The pull then
// costs the larger of the download and the copy, not their sum.

// aheadMin is the size from which a changed file is written ahead, and
// aheadMax how many files at most: each holds two open files until the
// update.
const (
	aheadMin = 16 << 20
	aheadMax = 64
)

// pullAhead writes files ahead of a pull's worktree update.
type pullAhead struct {
	r      *Repo
	ref    string // the branch pulled (refs/heads/NAME)
	head   dag.ID // the commit checked out
	cancel context.CancelCauseFunc
	files  []*aheadFile
	copied chan struct{} // closed once every file's runs are copied (or not)
	sink   *chunkSink
	// fromStore counts the bytes of chunks written from the store after
	// the fetch.
	fromStore atomic.Int64
}

// aheadFile is one file written ahead.
type aheadFile struct {
	n         int // in pullAhead.files
	path, tmp string
	entry     *dag.TreeEntry // the new version
	f, src    *os.File       // the temporary, and the worktree file it copies from
	was       worktree.StatEntry
	asm       *assembly
	copyErr   error
	written   []bool // by chunk of asm: written as downloaded
}

// newPullAhead prepares to write ahead what a fast-forward of branch ref
// from head (zero: none; nothing is then written ahead) changes.
func (r *Repo) newPullAhead(head dag.ID, ref string) *pullAhead {
	if head.IsZero() {
		return nil
	}
	return &pullAhead{r: r, ref: ref, head: head}
}

// start is called with the metadata of theirs fetched (get reads it): if
// the pull is a fast-forward from a.head to theirs, it finds the big files
// that change, opens a temporary beside each and starts copying the runs
// they share with the worktree file. It returns the sink of the chunks
// downloaded (nil: none). Nothing it cannot do is an error: the update
// writes those files as usual.
func (a *pullAhead) start(ctx context.Context, get dag.Getter, theirs dag.ID) func(dag.ID, []byte) {
	if a == nil || theirs == a.head || a.copied != nil {
		return nil
	}
	a.open(ctx, get, theirs)
	if len(a.files) == 0 {
		return nil
	}
	a.sink = newChunkSink(a.files)
	ctx, a.cancel = context.WithCancelCause(ctx)
	a.copied = make(chan struct{})
	go func() {
		defer close(a.copied)
		for _, f := range a.files {
			f.copyErr = <-f.asm.copyRuns(ctx, a.cancel, f.f, f.src, progress.Nop{}.Start("", 0, false), a.sink.drain)
		}
		a.sink.copied(ctx.Err() == nil)
	}()
	return a.sink.put
}

// open opens the files to write ahead: the big files that a fast-forward
// from a.head to theirs changes.
func (a *pullAhead) open(ctx context.Context, get dag.Getter, theirs dag.ID) {
	if base, err := merge.Base(ctx, get, a.head, theirs); err != nil || base != a.head {
		return // not a fast-forward: a merge writes its tables itself
	}
	from, err := dag.LoadCommit(ctx, get, a.head)
	if err != nil {
		return
	}
	to, err := dag.LoadCommit(ctx, get, theirs)
	if err != nil {
		return
	}
	type change struct {
		path     string
		old, new *dag.TreeEntry
	}
	var changes []change
	err = dag.DiffTrees(ctx, get, from.Tree, to.Tree, func(p string, old, e *dag.TreeEntry) error {
		if old != nil && e != nil && old.Mode.IsFile() && e.Mode.IsFile() && e.Size >= aheadMin && a.r.inSparse(p) && len(changes) < aheadMax {
			changes = append(changes, change{p, old, e})
		}
		return nil
	})
	if err != nil || len(changes) == 0 {
		return
	}
	root, err := os.OpenRoot(a.r.Root)
	if err != nil {
		return
	}
	defer root.Close()
	for _, c := range changes {
		if f := a.openFile(ctx, root, get, c.path, c.old, c.new); f != nil {
			f.n = len(a.files)
			a.files = append(a.files, f)
		}
	}
}

// openFile lays out the new version e of p, replacing old, from the runs it
// shares with the worktree file and opens its temporary: nil when the
// worktree file is not vouched for by the stat cache, the update would
// patch it in place, or p is not a plain path through directories (the
// update refuses the rest, as it would have without this).
func (a *pullAhead) openFile(ctx context.Context, root *os.Root, get dag.Getter, p string, old, e *dag.TreeEntry) *aheadFile {
	if checkPath(p) != nil || !inDirs(root, p) {
		return nil
	}
	oldChunks, chunks, err := chunkLists(ctx, get, old.ID, e.ID)
	if err != nil {
		return nil
	}
	if _, _, _, ok := inPlaceRanges(oldChunks, chunks); ok {
		return nil
	}
	src, err := root.Open(p)
	if err != nil {
		return nil
	}
	was, ok := a.r.holds(ctx, p, old.ID, src)
	if !ok {
		src.Close()
		return nil
	}
	tmp := a.r.tmpName(p)
	a.r.ahead.Store(path.Base(tmp), true) // before it exists: a scan keeps it
	f, err := rootFiles{root}.create(tmp, permOf(e.Mode))
	if err != nil {
		a.r.ahead.Delete(path.Base(tmp))
		src.Close()
		return nil
	}
	return &aheadFile{path: p, tmp: tmp, entry: e, f: f, src: src, was: was,
		asm: layOut(sharedParts(chunks, shareOffsets(oldChunks)))}
}

// finish waits for the copies of the files started, writes the chunks
// that the fetch did not (now in the store) and returns the files
// complete, to be renamed into place.
// A file that failed, or whose source changed, is dropped: the update
// writes it as usual.
func (a *pullAhead) finish(ctx context.Context) prewritten {
	if a == nil || a.copied == nil {
		return nil
	}
	<-a.copied
	pre := prewritten{}
	for _, f := range a.files {
		err := f.copyErr
		if err == nil {
			err = a.r.fill(ctx, f.f, f.asm.without(f.written), byteCount{&a.fromStore})
		}
		if err == nil && !(&checkedOut{f: f.src}).unchanged(f.was) {
			err = errors.New("changed while copied")
		}
		if err == nil {
			_, err = finishTemp(f.f, f.entry.Mode)
		} else {
			f.f.Close()
		}
		f.f = nil
		f.src.Close()
		if err == nil {
			pre[f.path] = prewrittenFile{tmp: f.tmp, id: f.entry.ID}
		}
	}
	return pre
}

// discard stops the copies still running, closes the files and removes
// the temporaries that were not renamed into place, unless a worktree
// update's journal lists them (the next command finishes it).
func (a *pullAhead) discard() {
	if a == nil || a.copied == nil {
		return
	}
	a.cancel(context.Canceled)
	<-a.copied
	written := prewritten{}
	for _, f := range a.files {
		if f.f != nil {
			f.f.Close()
			f.src.Close()
		}
		written[f.path] = prewrittenFile{tmp: f.tmp, id: f.entry.ID}
	}
	a.r.removeUnmoved(written)
	for _, f := range a.files {
		a.r.ahead.Delete(path.Base(f.tmp))
	}
}

// inDirs reports whether every parent of p is a directory, not a symlink.
func inDirs(root *os.Root, p string) bool {
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		if fi, err := root.Lstat(d); err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}

// byteCount counts the bytes a fill writes.
type byteCount struct{ n *atomic.Int64 }

func (c byteCount) Add(n int64) { c.n.Add(n) }

// fromDownload counts the bytes of chunks written as they downloaded.
func (a *pullAhead) fromDownload() int64 {
	if a.sink == nil {
		return 0
	}
	return a.sink.bytes.Load()
}
