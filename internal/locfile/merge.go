package locfile

import (
	"bytes"
	"container/heap"
	"encoding/binary"

	"github.com/dxdata/dx/dag"
)

// Merge writes to w the entries of files, given newest first: for an ID in
// several files, the newest entry whose pack is live; an ID with no live
// entry is left out. live is asked once per pack and file.
func Merge(w *Writer, files []*File, live func(pack dag.ID) bool) error {
	return Each(files, live, w.Add)
}

// Each calls fn with the entries Merge would write, in ID order; an error
// from fn ends it.
func Each(files []*File, live func(pack dag.ID) bool, fn func(Entry) error) error {
	alive := make([][]bool, len(files))
	h := make(cursors, 0, len(files))
	for i, f := range files {
		alive[i] = make([]bool, len(f.packs))
		for j, p := range f.packs {
			alive[i][j] = live(p)
		}
		if f.n > 0 {
			h = append(h, cursor{f: f, file: i})
		}
	}
	heap.Init(&h)
	for len(h) > 0 {
		id := h[0].f.id(h[0].i)
		var (
			pick  Entry
			found bool
			err   error
		)
		// Every cursor at id, newest file first (the heap's tie order).
		for len(h) > 0 && bytes.Equal(h[0].f.id(h[0].i), id) {
			c := &h[0]
			if !found {
				var e Entry
				if e, err = c.f.At(c.i); err != nil {
					return err
				}
				if alive[c.file][c.f.packIndex(c.i)] {
					pick, found = e, true
				}
			}
			if c.i++; c.i == c.f.n {
				heap.Pop(&h)
			} else {
				heap.Fix(&h, 0)
			}
		}
		if found {
			if err := fn(pick); err != nil {
				return err
			}
		}
	}
	return nil
}

// packIndex is the pack index of entry i, which At has checked.
func (f *File) packIndex(i int) uint32 {
	return binary.LittleEndian.Uint32(f.data[headerSize+i*entrySize+32:])
}

// cursor is a position in one file of a merge.
type cursor struct {
	f    *File
	file int // its place in the merge's files: lower is newer
	i    int
}

// cursors is a heap of cursors by their ID, then newest file first.
type cursors []cursor

func (h cursors) Len() int { return len(h) }
func (h cursors) Less(a, b int) bool {
	if c := bytes.Compare(h[a].f.id(h[a].i), h[b].f.id(h[b].i)); c != 0 {
		return c < 0
	}
	return h[a].file < h[b].file
}
func (h cursors) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *cursors) Push(x any)   { *h = append(*h, x.(cursor)) }
func (h *cursors) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
