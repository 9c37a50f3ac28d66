package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/worktree"
)

// In-place patches. A new version of a big file that keeps most of the
// old one's bytes where they were (rows updated at the same length, rows
// appended, the end cut off) is written into the file itself, not into a
// whole copy: only the ranges that change. They are staged first, into a
// temporary beside the file (the patch, the changed bytes back to back),
// and applied under the journal as a rename is (journalPatch): a kill in
// the middle leaves a file that the next command finishes from the
// patch, which is removed last. An update then costs the change, on
// every file system.

// patchRange is Len bytes of the new file at Off, which a patch writes
// (taken in order from the patch file).
type patchRange struct {
	Off int64 `json:"off"`
	Len int64 `json:"len"`
}

// journalPatch applies the patch Tmp (a file whose inode is Inode) to
// Path (whose inode is Target): Ranges written in order, the file then
// cut to Size. Before the update went ahead, Path's size, mtime and
// ctime were OldSize, OldMtimeNs and OldCtimeNs.
type journalPatch struct {
	Tmp        string       `json:"tmp"`
	Inode      uint64       `json:"inode"`
	Path       string       `json:"path"`
	Target     uint64       `json:"target"`
	Size       int64        `json:"size"`
	Ranges     []patchRange `json:"ranges"`
	OldSize    int64        `json:"old_size"`
	OldMtimeNs int64        `json:"old_mtime_ns"`
	OldCtimeNs int64        `json:"old_ctime_ns"`
}

const (
	// inPlaceMin: a smaller file is written whole (its rename costs as
	// much as a patch would save).
	inPlaceMin = 1 << 20
	// inPlaceShare: a file is patched only when at most this share of
	// its new bytes (1/inPlaceShare) changes place or content.
	inPlaceShare = 4
)

// inPlaceRanges returns the ranges of the new file (chunks) that do not
// hold the old file's chunk at the same offset, coalesced, the new size,
// and whether they are few enough to patch the old file in place.
func inPlaceRanges(oldChunks, chunks []dag.ChunkRef) (ranges []patchRange, size, patched int64, ok bool) {
	i, oldOff := 0, int64(0)
	for _, c := range chunks {
		for i < len(oldChunks) && oldOff < size {
			oldOff += int64(oldChunks[i].Len)
			i++
		}
		if i < len(oldChunks) && oldOff == size && oldChunks[i].ID == c.ID {
			size += int64(c.Len)
			continue
		}
		if n := len(ranges); n > 0 && ranges[n-1].Off+ranges[n-1].Len == size {
			ranges[n-1].Len += int64(c.Len)
		} else {
			ranges = append(ranges, patchRange{Off: size, Len: int64(c.Len)})
		}
		patched += int64(c.Len)
		size += int64(c.Len)
	}
	return ranges, size, patched, patchable(size, patched)
}

// patchable reports whether a new file of size bytes, changed bytes of
// which change place or content, is patched in place rather than written
// whole.
func patchable(size, changed int64) bool {
	return size >= inPlaceMin && changed*inPlaceShare <= size
}

// stagePatch writes into tmp the patch that turns the worktree file at
// f.step.path into its new version, when that file holds the old version
// (the stat cache vouches for it), is a regular file of one link that
// this process can write, has the new version's mode, and the new
// version keeps most of its bytes in place. ok false: the file is to be
// written whole (nothing was left behind).
func (r *Repo) stagePatch(ctx context.Context, root *os.Root, handles *dirHandles, f *staged, tmp string, oldChunks, chunks []dag.ChunkRef, bar interface{ Add(int64) }) (ok bool, err error) {
	p, old, e := f.step.path, f.step.old, f.step.entry
	if old.Mode != e.Mode {
		return false, nil
	}
	ranges, size, patched, ok := inPlaceRanges(oldChunks, chunks)
	if !ok {
		return false, nil
	}
	dst, err := root.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return false, nil // not writable here: written whole, renamed
	}
	defer dst.Close()
	fi, err := dst.Stat()
	if err != nil || !fi.Mode().IsRegular() || linksOf(fi) != 1 || inodeOf(fi) == 0 {
		return false, nil
	}
	was, ok := r.holds(ctx, p, old.ID, dst)
	if !ok {
		return false, nil
	}
	var fresh []dag.ChunkRef
	var freshOff []int64
	var off int64
	k := 0
	for _, c := range chunks {
		for k < len(ranges) && off >= ranges[k].Off+ranges[k].Len {
			k++
		}
		if k < len(ranges) && off >= ranges[k].Off {
			fresh, freshOff = append(fresh, c), append(freshOff, off)
		}
		off += int64(c.Len)
	}
	// Whole pages: the bytes around the changed chunks, up to page
	// boundaries, are the file's own (gaps), read from it while the
	// chunks are read from the store; each piece is written at its place
	// in the patch (the aligned ranges back to back).
	aligned := alignRanges(ranges, size)
	gaps := gapsOf(aligned, ranges)
	starts := make([]int64, len(aligned)+1)
	for i, a := range aligned {
		starts[i+1] = starts[i] + a.Len
	}
	at := func(x int64) int64 { // x's offset in the patch
		k := sort.Search(len(aligned), func(i int) bool { return aligned[i].Off+aligned[i].Len > x })
		return starts[k] + x - aligned[k].Off
	}
	patched = starts[len(aligned)]
	pfi, err := writeTemp(handles, tmp, dag.ModeFile, func(w *os.File) error {
		var n atomic.Int64
		gapsDone := make(chan error, 1)
		go func() { gapsDone <- copyGaps(ctx, w, dst, gaps, at, &n, willNeed) }()
		j := 0
		err := r.Store.EachChunk(ctx, fresh, 0, func(b []byte) error {
			m, err := w.WriteAt(b, at(freshOff[j]))
			j++
			n.Add(int64(m))
			return err
		})
		if gerr := <-gapsDone; gerr != nil {
			return gerr
		}
		if err == nil && n.Load() != patched {
			err = fmt.Errorf("patch has %d bytes, its ranges %d", n.Load(), patched)
		}
		return err
	})
	switch {
	case errors.Is(err, errNotVouched):
		return false, nil // the file is not what the stat cache says: written whole
	case err != nil:
		return false, fmt.Errorf("%s: %w", p, err)
	}
	if !(&checkedOut{f: dst}).unchanged(was) {
		// Changed while the patch was written: written whole, each
		// chunk it shares checked.
		root.Remove(tmp)
		return false, nil
	}
	f.tmp, f.inode, f.n, f.copied = tmp, inodeOf(pfi), size, size-patched
	f.patch = &journalPatch{Tmp: tmp, Inode: f.inode, Path: p, Target: inodeOf(fi), Size: size,
		Ranges: aligned, OldSize: was.Size, OldMtimeNs: was.MtimeNs, OldCtimeNs: was.CtimeNs}
	bar.Add(size)
	return true, nil
}

// pageSize is the page a patch writes whole: the kernel reads a page of
// the file to change part of it, and those reads, one after the other
// and cold, took most of the time of patching a 0.01% update into the
// 1 GiB table (two for each changed run of chunks).
const pageSize = 4096

// alignRanges widens ranges to whole pages (the last cut at size) and
// joins those that then meet.
func alignRanges(ranges []patchRange, size int64) []patchRange {
	var out []patchRange
	for _, rg := range ranges {
		a := rg.Off &^ (pageSize - 1)
		b := min((rg.Off+rg.Len+pageSize-1)&^(pageSize-1), size)
		if n := len(out); n > 0 && out[n-1].Off+out[n-1].Len >= a {
			out[n-1].Len = max(out[n-1].Off+out[n-1].Len, b) - out[n-1].Off
			continue
		}
		out = append(out, patchRange{Off: a, Len: b - a})
	}
	return out
}

// gapsOf returns the parts of aligned (ranges widened by alignRanges)
// outside ranges, in order: bytes the file keeps, which the patch
// carries so as to write whole pages.
func gapsOf(aligned, ranges []patchRange) []patchRange {
	var gaps []patchRange
	k := 0
	for _, al := range aligned {
		at, end := al.Off, al.Off+al.Len
		for ; k < len(ranges) && ranges[k].Off < end; k++ {
			if ranges[k].Off > at {
				gaps = append(gaps, patchRange{Off: at, Len: ranges[k].Off - at})
			}
			at = ranges[k].Off + ranges[k].Len
		}
		if at < end {
			gaps = append(gaps, patchRange{Off: at, Len: end - at})
		}
	}
	return gaps
}

// gapReaders is how many gaps copyGaps reads at once: each is a page or
// less at its own place in a file the page cache may not hold.
const gapReaders = 16

// errNotVouched: the file does not hold what the stat cache says.
var errNotVouched = errors.New("the file is not what the stat cache says")

// copyGaps copies the gaps of f into the patch w, each at at(its
// offset), gapReaders at a time, adding the bytes to n; hint (willNeed)
// asks for them all first.
func copyGaps(ctx context.Context, w, f *os.File, gaps []patchRange, at func(int64) int64, n *atomic.Int64, hint func(f *os.File, off, n int64)) error {
	errs := make([]error, len(gaps))
	var next atomic.Int64
	var wg sync.WaitGroup
	// Every gap is hinted first, on a goroutine of its own: their reads
	// are then in flight together, ahead of the readers, not gapReaders
	// at a time.
	wg.Go(func() {
		for _, g := range gaps {
			if ctx.Err() != nil {
				return
			}
			hint(f, g.Off, g.Len)
		}
	})
	for range min(gapReaders, len(gaps)) {
		wg.Go(func() {
			var buf []byte // a gap is under two pages: one's tail, the next's head
			for i := int(next.Add(1) - 1); i < len(gaps) && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				b := slices.Grow(buf[:0], int(gaps[i].Len))[:gaps[i].Len]
				buf = b
				if _, err := f.ReadAt(b, gaps[i].Off); err != nil {
					errs[i] = fmt.Errorf("%w: %v", errNotVouched, err)
					continue
				}
				m, err := w.WriteAt(b, at(gaps[i].Off))
				n.Add(int64(m))
				errs[i] = err
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// untouched reports whether fi, the patch's target, has the stat it had
// when the patch was staged.
func (pt journalPatch) untouched(fi os.FileInfo) bool {
	_, ctime := inodeCtime(fi)
	return fi.Size() == pt.OldSize && fi.ModTime().UnixNano() == pt.OldMtimeNs && ctime == pt.OldCtimeNs
}

// applyPatch carries out one patch of a journal and returns the stat
// entry of the file patched (ok false: applied already). Replaying, the
// file may be part patched: the patch is applied again whole. A file
// that changed between the patch's staging and now is left as it is, and
// its patch removed (so that a replay does not apply it either): the
// update fails, and a status shows the file modified.
func applyPatch(root *os.Root, h *dirHandles, pt journalPatch, replay bool) (st worktree.StatEntry, ok bool, err error) {
	t, err := h.stat(pt.Tmp)
	switch {
	case err != nil:
		return st, false, err
	case !t.exists:
		return st, false, nil // applied: the patch goes last
	case t.inode != pt.Inode:
		return st, false, fmt.Errorf("%s: the patch of %s is not the one this update wrote", pt.Tmp, pt.Path)
	}
	patch, err := root.Open(pt.Tmp)
	if err != nil {
		return st, false, err
	}
	defer patch.Close()
	dst, err := root.OpenFile(pt.Path, os.O_WRONLY, 0)
	if err != nil {
		return st, false, err
	}
	defer dst.Close()
	fi, err := dst.Stat()
	switch {
	case err != nil:
		return st, false, err
	case inodeOf(fi) != pt.Target:
		return st, false, fmt.Errorf("%s was replaced during the update", pt.Path)
	case !replay && !pt.untouched(fi):
		err := fmt.Errorf("%s changed during the update: kept as it is", pt.Path)
		return st, false, errors.Join(err, h.remove(pt.Tmp))
	}
	var at int64
	buf := make([]byte, 1<<20)
	for _, rg := range pt.Ranges {
		if err := copyThrough(dst, patch, at, rg.Off, rg.Len, buf); err != nil {
			return st, false, fmt.Errorf("%s: %w", pt.Path, err)
		}
		at += rg.Len
	}
	if err := dst.Truncate(pt.Size); err != nil {
		return st, false, err
	}
	if err := dst.Close(); err != nil {
		return st, false, err
	}
	if err := h.remove(pt.Tmp); err != nil {
		return st, false, err
	}
	return movedStat(h, pt.Path)
}

// copyThrough copies n bytes of src at srcOff to dst at dstOff through
// buf. A patch is copied, not cloned into its file: XFS would first write
// the patch out to share its blocks (75 ms for the 40 MB patch of a 1 GiB
// table), where a copy from the page cache costs a few.
func copyThrough(dst, src *os.File, srcOff, dstOff, n int64, buf []byte) error {
	for n > 0 {
		b := buf[:min(n, int64(len(buf)))]
		if _, err := src.ReadAt(b, srcOff); errors.Is(err, io.EOF) {
			return io.ErrUnexpectedEOF // shorter than the run
		} else if err != nil {
			return err
		}
		if _, err := dst.WriteAt(b, dstOff); err != nil {
			return err
		}
		srcOff, dstOff, n = srcOff+int64(len(b)), dstOff+int64(len(b)), n-int64(len(b))
	}
	return nil
}
