package repo

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dxdata/dx/dag"
)

// TestInPlaceRanges: the ranges are the new file's bytes that are not the
// old chunk at the same offset, by an oracle that compares byte by byte
// which chunk starts where.
func TestInPlaceRanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	id := func(n int) dag.ID { return dag.Hash(dag.KindChunk, []byte{byte(n)}) }
	// A chunk's id fixes its length, as its hash does.
	chunk := func(n int) dag.ChunkRef { return dag.ChunkRef{ID: id(n), Len: uint32(1 + n%4)} }
	for round := range 500 {
		var old []dag.ChunkRef
		for range rng.IntN(20) {
			old = append(old, chunk(rng.IntN(6)))
		}
		var chunks []dag.ChunkRef
		for range rng.IntN(20) {
			if rng.IntN(3) > 0 && len(old) > 0 { // often the old file's chunks, shifted or not
				chunks = append(chunks, old[rng.IntN(len(old))])
			} else {
				chunks = append(chunks, chunk(rng.IntN(6)))
			}
		}
		oldAt := map[int64]dag.ChunkRef{}
		var off int64
		for _, c := range old {
			oldAt[off] = c
			off += int64(c.Len)
		}
		var want []bool // byte i of the new file is written
		for _, c := range chunks {
			kept := oldAt[int64(len(want))] == c
			for range c.Len {
				want = append(want, !kept)
			}
		}
		ranges, size, patched, _ := inPlaceRanges(old, chunks)
		got := make([]bool, size)
		var n int64
		for i, rg := range ranges {
			if i > 0 && ranges[i-1].Off+ranges[i-1].Len >= rg.Off {
				t.Fatalf("round %d: ranges %v not apart and in order", round, ranges)
			}
			for b := rg.Off; b < rg.Off+rg.Len; b++ {
				got[b] = true
			}
			n += rg.Len
		}
		if size != int64(len(want)) || n != patched || !slices.Equal(got, want) {
			t.Fatalf("round %d: ranges %v (size %d, patched %d) for old %v new %v", round, ranges, size, patched, old, chunks)
		}
	}
	big := []dag.ChunkRef{{ID: id(1), Len: inPlaceMin}, {ID: id(2), Len: inPlaceMin}}
	if _, _, _, ok := inPlaceRanges(big, []dag.ChunkRef{big[0], {ID: id(3), Len: inPlaceMin}}); ok {
		t.Error("half the file changed: patched in place")
	}
	if _, _, _, ok := inPlaceRanges(big, append(big[:2:2], dag.ChunkRef{ID: id(3), Len: 100})); !ok {
		t.Error("an append: not patched in place")
	}
}

// TestApplyPatch: a patch turns the old file into the new one, again from
// a file part patched (a replay), and leaves a file changed since it was
// staged as it is, removing the patch so that a replay does not apply it.
func TestApplyPatch(t *testing.T) {
	dir := t.TempDir()
	root, h := openHandles(t, dir)
	old := bytes.Repeat([]byte("0123456789"), 1000)
	want := bytes.Clone(old[:9000])
	copy(want[100:], "AAAA")
	copy(want[5000:], "BBBBBB")
	want = append(want, "and more"...)
	ranges := []patchRange{{100, 4}, {5000, 6}, {9000, 8}}
	setup := func(content []byte) journalPatch {
		t.Helper()
		past := time.Now().Add(-time.Hour)
		if err := os.WriteFile(filepath.Join(dir, "f"), content, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(filepath.Join(dir, "f"), past, past); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "p"), []byte("AAAABBBBBBand more"), 0o644); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(dir, "f"))
		if err != nil {
			t.Fatal(err)
		}
		pfi, err := os.Stat(filepath.Join(dir, "p"))
		if err != nil {
			t.Fatal(err)
		}
		_, ctime := inodeCtime(fi)
		return journalPatch{Tmp: "p", Inode: inodeOf(pfi), Path: "f", Target: inodeOf(fi), Size: int64(len(want)),
			Ranges: ranges, OldSize: fi.Size(), OldMtimeNs: fi.ModTime().UnixNano(), OldCtimeNs: ctime}
	}
	check := func(what string, content []byte, tmpGone bool) {
		t.Helper()
		got, err := os.ReadFile(filepath.Join(dir, "f"))
		if err != nil || !bytes.Equal(got, content) {
			t.Fatalf("%s: the file is not what it should be (%v)", what, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "p")); os.IsNotExist(err) != tmpGone {
			t.Fatalf("%s: patch gone %v, want %v", what, os.IsNotExist(err), tmpGone)
		}
	}

	pt := setup(old)
	if _, ok, err := applyPatch(root, h, pt, false); err != nil || !ok {
		t.Fatalf("apply: %v, %v", ok, err)
	}
	check("applied", want, true)
	if _, ok, err := applyPatch(root, h, pt, true); err != nil || ok {
		t.Fatalf("replayed after it was applied: %v, %v", ok, err)
	}

	// Killed after the first range: the replay finishes it.
	part := bytes.Clone(old)
	copy(part[100:], "AAAA")
	pt = setup(part)
	if _, ok, err := applyPatch(root, h, pt, true); err != nil || !ok {
		t.Fatalf("replay: %v, %v", ok, err)
	}
	check("replayed", want, true)

	// Changed after staging (mtime): left as it is, the patch removed.
	pt = setup(old)
	now := time.Now()
	if err := os.Chtimes(filepath.Join(dir, "f"), now, now); err != nil {
		t.Fatal(err)
	}
	if _, _, err := applyPatch(root, h, pt, false); err == nil {
		t.Fatal("a file changed since staging was patched")
	}
	check("changed", old, true)
	if _, ok, err := applyPatch(root, h, pt, true); err != nil || ok {
		t.Fatalf("replay of a patch given up: %v, %v", ok, err)
	}
	check("changed, replayed", old, true)
}

// TestJournalVersion: a journal with patches says version 2, one with
// directories made whole version 3 (a journal without either says none,
// as before patches); one of a version this dx does not know is refused
// with one line, not finished in part.
func TestJournalVersion(t *testing.T) {
	r, _ := newTestRepo(t)
	if err := r.saveJournal(&journal{Renames: []journalRename{{Tmp: ".dx-tmp-x-1", Path: "a"}}}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(r.journalPath()); err != nil || bytes.Contains(b, []byte(`"version"`)) {
		t.Fatalf("a journal of renames only carries a version (%v): %s", err, b)
	}
	j := &journal{Patches: []journalPatch{{Tmp: ".dx-tmp-x-2", Path: "b"}}}
	if err := r.saveJournal(j); err != nil {
		t.Fatal(err)
	}
	if got, err := r.loadJournal(); err != nil || got.Version != 2 || len(got.Patches) != 1 {
		t.Fatalf("journal with patches: %+v, %v", got, err)
	}
	for _, dj := range []*journal{
		{Renames: []journalRename{{Tmp: ".dx-tmp-x-3", Path: "d", Dir: true}}, Patches: j.Patches},
		{Undo: true, TmpDirs: []string{"sub/.dx-tmp-x-4"}},
	} {
		if err := r.saveJournal(dj); err != nil {
			t.Fatal(err)
		}
		if got, err := r.loadJournal(); err != nil || got.Version != 3 {
			t.Fatalf("journal with directories made whole: %+v, %v", got, err)
		}
	}
	if err := SaveStateFile(r.journalPath(), &journal{Undo: true, TmpDirs: []string{"../x"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.loadJournal(); err == nil {
		t.Fatal("a journal removing a directory that is not a temporary was taken")
	}
	j.Version = journalVersion + 1
	if err := SaveStateFile(r.journalPath(), j); err != nil {
		t.Fatal(err)
	}
	if _, err := r.loadJournal(); err == nil || !bytes.Contains([]byte(err.Error()), []byte("newer dx")) {
		t.Fatalf("a journal of a newer dx: %v", err)
	}
	if err := r.discardUpdate(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(r.journalPath()); !os.IsNotExist(err) {
		t.Fatalf("a newer dx's journal given up: still there (%v)", err)
	}
}

// TestAlignRanges: the ranges widened cover exactly the pages that hold
// a byte of a range (the last cut at the file's size), and the gaps are
// exactly their bytes outside the ranges, by an oracle byte by byte.
func TestAlignRanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for round := range 300 {
		size := int64(1 + rng.IntN(20*pageSize))
		var ranges []patchRange
		for off := int64(rng.IntN(3 * pageSize)); off < size; {
			n := min(int64(1+rng.IntN(2*pageSize)), size-off)
			ranges = append(ranges, patchRange{Off: off, Len: n})
			off += n + int64(1+rng.IntN(3*pageSize))
		}
		in := make([]bool, size)
		for _, rg := range ranges {
			for b := rg.Off; b < rg.Off+rg.Len; b++ {
				in[b] = true
			}
		}
		pages := make([]bool, size/pageSize+1) // the page holds a byte of a range
		for b := range size {
			pages[b/pageSize] = pages[b/pageSize] || in[b]
		}
		page := func(b int64) bool { return pages[b/pageSize] }
		aligned := alignRanges(ranges, size)
		gaps := gapsOf(aligned, ranges)
		covered, gap := make([]bool, size), make([]bool, size)
		for i, a := range aligned {
			if a.Off%pageSize != 0 || (a.Off+a.Len)%pageSize != 0 && a.Off+a.Len != size || i > 0 && aligned[i-1].Off+aligned[i-1].Len >= a.Off {
				t.Fatalf("round %d: aligned %v (size %d) not whole pages, apart and in order", round, aligned, size)
			}
			for b := a.Off; b < a.Off+a.Len; b++ {
				covered[b] = true
			}
		}
		for i, g := range gaps {
			if i > 0 && gaps[i-1].Off+gaps[i-1].Len > g.Off {
				t.Fatalf("round %d: gaps %v out of order", round, gaps)
			}
			for b := g.Off; b < g.Off+g.Len; b++ {
				gap[b] = true
			}
		}
		for b := range size {
			if covered[b] != page(b) || gap[b] != (covered[b] && !in[b]) {
				t.Fatalf("round %d: byte %d: covered %v gap %v in a range %v; ranges %v aligned %v gaps %v", round, b, covered[b], gap[b], in[b], ranges, aligned, gaps)
			}
		}
	}
}

// TestCopyGaps: every gap is hinted once, as it is, and copied into the
// patch at its place there; n counts the bytes copied.
func TestCopyGaps(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	dir := t.TempDir()
	data := make([]byte, 64*pageSize)
	for i := range data {
		data[i] = byte(rng.IntN(256))
	}
	if err := os.WriteFile(filepath.Join(dir, "file"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "file"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := os.Create(filepath.Join(dir, "patch"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var ranges []patchRange
	for off := int64(100); off < int64(len(data))-3*pageSize; off += int64(2*pageSize + rng.IntN(3*pageSize)) {
		ranges = append(ranges, patchRange{Off: off, Len: int64(1 + rng.IntN(pageSize))})
	}
	aligned := alignRanges(ranges, int64(len(data)))
	gaps := gapsOf(aligned, ranges)
	starts := []int64{0}
	for _, a := range aligned {
		starts = append(starts, starts[len(starts)-1]+a.Len)
	}
	at := func(x int64) int64 {
		for k, a := range aligned {
			if x < a.Off+a.Len {
				return starts[k] + x - a.Off
			}
		}
		t.Fatalf("%d is in no aligned range", x)
		return 0
	}
	var mu sync.Mutex
	hinted := map[patchRange]int{}
	var n atomic.Int64
	err = copyGaps(context.Background(), w, f, gaps, at, &n, func(h *os.File, off, n int64) {
		if h != f {
			t.Errorf("hint of %s", h.Name())
		}
		mu.Lock()
		hinted[patchRange{Off: off, Len: n}]++
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	patch, err := os.ReadFile(filepath.Join(dir, "patch"))
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for _, g := range gaps {
		if hinted[g] != 1 {
			t.Errorf("gap %v hinted %d times", g, hinted[g])
		}
		if p := at(g.Off); !bytes.Equal(patch[p:p+g.Len], data[g.Off:g.Off+g.Len]) {
			t.Errorf("gap %v: not the file's bytes at %d in the patch", g, p)
		}
		want += g.Len
	}
	if len(gaps) < 10 || len(hinted) != len(gaps) || n.Load() != want {
		t.Fatalf("%d gaps, %d hinted, %d bytes counted, want %d", len(gaps), len(hinted), n.Load(), want)
	}
}
