package repo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/dirruns"
	"github.com/dxdata/dx/internal/worktree"
	"github.com/dxdata/dx/store"
)

// stage writes the new files of a plan under temporary names, on 4
// workers, in the directories made (the directories known to be in
// place), or in place in the directories made whole (trees); on an error
// it removes what it wrote.
func (r *Repo) stage(ctx context.Context, root *os.Root, handles *dirHandles, plan []planStep, made *madeDirs, trees *newTrees) ([]staged, error) {
	var files []staged
	var total int64
	for _, s := range plan {
		if s.entry != nil {
			files = append(files, staged{step: s})
			total += int64(s.entry.Size)
		}
	}
	bar := r.opts.Progress.Start("checking out", total, true)
	defer bar.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(files))
	runs := dirruns.Cut(len(files), stageRunMax, func(i int) string { return path.Dir(files[i].step.path) })
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := int(next.Add(1) - 1); k < len(runs); k = int(next.Add(1) - 1) {
				for i := runs[k].Lo; i < runs[k].Hi; i++ {
					if ctx.Err() != nil {
						errs[i] = ctx.Err()
						continue
					}
					if errs[i] = r.stageEntry(ctx, root, handles, &files[i], made, trees, bar); errs[i] != nil {
						cancel()
					}
				}
			}
		}()
	}
	wg.Wait()
	if err := firstError(ctx, errs); err != nil {
		for _, f := range files {
			if f.tmp != "" && f.tmp != f.step.pre && !f.direct {
				root.Remove(f.tmp)
			}
		}
		return nil, err
	}
	return files, nil
}

// stageRunMax caps a run of files to write, so that a big directory is
// still shared out: only the creation of a file takes its directory's
// lock, not the writing of its content.
const stageRunMax = 64

// firstError returns the first error that is not the cancellation that
// another error caused.
func firstError(ctx context.Context, errs []error) error {
	var first error
	for _, err := range errs {
		switch {
		case err == nil:
		case !errors.Is(err, context.Canceled):
			return err
		case first == nil:
			first = err
		}
	}
	return first
}

// stageEntry writes the new file or symlink of f.step under a temporary
// name (or takes the one written ahead) and records its name and inode.
// The temporary goes beside its path when the path's directory exists,
// else in the nearest directory above that does: renamed into place,
// later, once the files in the way are gone. In a directory made whole,
// the file is written under its own name.
func (r *Repo) stageEntry(ctx context.Context, root *os.Root, handles *dirHandles, f *staged, made *madeDirs, trees *newTrees, bar interface{ Add(int64) }) error {
	p, e := f.step.path, *f.step.entry
	tmp, direct := trees.place(p)
	if !direct || f.step.pre != "" {
		tmp, direct = path.Join(stagingDir(root, p, made), path.Base(r.tmpName(p))), false
	}
	switch {
	case f.step.pre != "":
		tmp, f.n = f.step.pre, int64(e.Size)
		bar.Add(f.n)
	case e.Mode == dag.ModeSymlink:
		target, err := r.Store.ReadAll(ctx, e.ID, 64<<10)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if err := root.Symlink(string(target), tmp); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		f.n = int64(len(target))
	case e.Mode == dag.ModeFile, e.Mode == dag.ModeExec:
		old := f.step.old
		var oldChunks, chunks []dag.ChunkRef
		if old != nil && old.Mode.IsFile() {
			var err error
			if oldChunks, chunks, err = chunkLists(ctx, r.Store, old.ID, e.ID); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			if ok, err := r.stagePatch(ctx, root, handles, f, tmp, oldChunks, chunks, bar); err != nil || ok {
				return err
			}
		}
		fi, err := writeTemp(handles, tmp, e.Mode, func(w *os.File) error {
			var err error
			if old != nil && old.Mode.IsFile() {
				f.n, f.copied, err = r.patchFile(ctx, root, f.step, oldChunks, chunks, w, bar)
			} else {
				f.n, err = r.Store.CopyFile(ctx, e.ID, w, store.CopyOptions{Sparse: true, Progress: bar.Add})
			}
			if err == nil && f.n != int64(e.Size) {
				err = fmt.Errorf("content has %d bytes, tree says %d: %w", f.n, e.Size, store.ErrCorrupt)
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		f.inode = inodeOf(fi) // (the open file: no walk from the root)
		if direct {
			f.stat = directStat(fi)
		}
	default:
		return fmt.Errorf("%s: cannot check out mode %s", p, e.Mode)
	}
	f.tmp, f.direct = tmp, direct
	if f.inode == 0 {
		fi, err := root.Lstat(tmp)
		if err != nil {
			return err
		}
		f.inode = inodeOf(fi)
		if direct {
			f.stat = directStat(fi)
		}
	}
	return nil
}

// stagingDir is the directory a temporary for p goes in: p's own, or the
// deepest above it that is a directory now, as is every directory above
// it (not a file or a symlink that the update replaces; makeDirs made the
// missing ones). It is found from the top down: a Root resolves a symlink in the middle
// of a path when it stays inside the root, so d/hooks, with d a link to
// .git, is .git/hooks.
func stagingDir(root *os.Root, p string, made *madeDirs) string {
	dir := "."
	for c := range strings.SplitSeq(path.Dir(p), "/") {
		next := path.Join(dir, c)
		if c == "." {
			break
		}
		if !made.has(next) {
			if fi, err := root.Lstat(next); err != nil || !fi.IsDir() {
				break
			}
			made.add(next)
		}
		dir = next
	}
	return dir
}

// patchFile writes the new File of step to f, taking every chunk it
// shares with the worktree file at step.path (believed to hold step.old)
// from that file, copied unread where the stat cache vouches for the
// file, else read and verified by its hash, and the rest from the store;
// copied counts the bytes copied unread. A new
// version of a big table then costs reading and hashing the old file, not
// decompressing all of it.
func (r *Repo) patchFile(ctx context.Context, root *os.Root, step planStep, oldChunks, chunks []dag.ChunkRef, f *os.File, bar interface{ Add(int64) }) (n, copied int64, err error) {
	p, old, id := step.path, step.old.ID, step.entry.ID
	at := shareOffsets(oldChunks)
	src, err := root.Open(p)
	if err != nil {
		n, err := r.Store.CopyFile(ctx, id, f, store.CopyOptions{Sparse: true, Progress: bar.Add})
		return n, 0, err
	}
	defer src.Close()
	if was, ok := r.holds(ctx, p, old, src); ok {
		n, copied, err := r.copyShared(ctx, f, src, chunks, at, bar)
		if err == nil && (&checkedOut{f: src}).unchanged(was) {
			return n, copied, nil
		}
		if ctx.Err() != nil {
			return n, 0, ctx.Err()
		}
		// The file changed while it was copied, or a copy failed: again,
		// each chunk read checked.
		if _, err := f.Seek(0, 0); err != nil {
			return 0, 0, err
		}
		if err := f.Truncate(0); err != nil {
			return 0, 0, err
		}
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var buf []byte
	for _, c := range chunks {
		if err := ctx.Err(); err != nil {
			return n, copied, err
		}
		var b []byte
		if o, ok := at[c.ID]; ok {
			buf = slices.Grow(buf[:0], int(c.Len))[:c.Len]
			if _, err := src.ReadAt(buf, o); err == nil && dag.Hash(dag.KindChunk, buf) == c.ID {
				b = buf
			}
		}
		if b == nil { // not in the old file, or the file changed
			if buf, err = r.Store.AppendObject(ctx, dag.KindChunk, c.ID, buf[:0]); err != nil {
				return n, copied, err
			}
			b = buf
		}
		if _, err := w.Write(b); err != nil {
			return n, copied, err
		}
		n += int64(len(b))
		bar.Add(int64(len(b)))
	}
	return n, copied, w.Flush()
}

// chunkLists returns the chunks of Files old and id, read from g.
func chunkLists(ctx context.Context, g dag.Getter, old, id dag.ID) (oldChunks, chunks []dag.ChunkRef, err error) {
	collect := func(dst *[]dag.ChunkRef) func(c dag.ChunkRef) error {
		return func(c dag.ChunkRef) error { *dst = append(*dst, c); return nil }
	}
	// Both at once: each is a few reads one after another, cold.
	var oldErr error
	var wg sync.WaitGroup
	wg.Go(func() { oldErr = dag.WalkFile(ctx, g, old, collect(&oldChunks)) })
	err = dag.WalkFile(ctx, g, id, collect(&chunks))
	wg.Wait()
	if err = errors.Join(oldErr, err); err != nil {
		return nil, nil, err
	}
	return oldChunks, chunks, nil
}

// holds reports whether the worktree file at p, open as f, holds File id
// by the stat cache: the entry recorded when it was written or read names
// id, is not racy, and is f's stat now. The entry is returned to check
// again after f is read.
func (r *Repo) holds(ctx context.Context, p string, id dag.ID, f *os.File) (worktree.StatEntry, bool) {
	var e worktree.StatEntry
	found := false
	if err := worktree.LookupStats(ctx, r.Store, []string{p}, func(_ int, se worktree.StatEntry) { e, found = se, true }); err != nil {
		return e, false
	}
	return e, found && e.File == id && e.Trusted() && (&checkedOut{f: f}).unchanged(e)
}

// copyShared writes chunks to f: each run of them that lies contiguous
// in src (at offsets at, src trusted to hold them) copied unread, the
// rest from the store (see assemble). An update of a big
// table then costs the change and a copy, not a read, hash and write of
// every byte.
func (r *Repo) copyShared(ctx context.Context, f, src *os.File, chunks []dag.ChunkRef, at map[dag.ID]int64, bar interface{ Add(int64) }) (n, copied int64, err error) {
	return r.assemble(ctx, f, src, sharedParts(chunks, at), bar)
}
