package repo

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/dxdata/dx/dag"
)

// TestChunkSink: chunks put while the copy runs wait until it drains them
// (those that follow one another in one write), a chunk with two places
// goes to both, and once the copies are done chunks are written as they
// come; every place is marked written and counted once.
func TestChunkSink(t *testing.T) {
	chunk := func(s string) ([]byte, dag.ChunkRef) {
		b := bytes.Repeat([]byte(s), 1000)
		return b, dag.ChunkRef{ID: dag.Hash(dag.KindChunk, b), Len: uint32(len(b))}
	}
	a, ra := chunk("a")
	b, rb := chunk("bb")
	c, rc := chunk("ccc")
	d, rd := chunk("dddd")
	// The file: a b c, a gap of 500 bytes (a run copied), a, d.
	asm := &assembly{chunks: []dag.ChunkRef{ra, rb, rc, ra, rd}}
	at := int64(0)
	for i, r := range asm.chunks {
		if i == 3 {
			at += 500
		}
		asm.chunkAt = append(asm.chunkAt, at)
		at += int64(r.Len)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "ahead"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	file := &aheadFile{f: f, asm: asm}
	s := newChunkSink([]*aheadFile{file})

	s.put(rc.ID, c)
	s.put(ra.ID, a)
	s.put(dag.Hash(dag.KindChunk, []byte("elsewhere")), []byte("elsewhere")) // no place: ignored
	s.put(rb.ID, b)
	if st, _ := f.Stat(); st.Size() != 0 || s.bytes.Load() != 0 {
		t.Fatalf("chunks were written while the copy runs (%d bytes in the file)", st.Size())
	}
	s.drain()
	s.copied(true)
	s.put(rd.ID, d) // after the copies: written at once
	want := append(append(append([]byte{}, a...), b...), c...)
	want = append(append(append(want, make([]byte, 500)...), a...), d...)
	got, err := os.ReadFile(f.Name())
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("the file holds %d bytes, not the chunks at their places (%v)", len(got), err)
	}
	for k, w := range file.written {
		if !w {
			t.Errorf("chunk %d is not marked written", k)
		}
	}
	if n := s.bytes.Load(); n != int64(2*len(a)+len(b)+len(c)+len(d)) {
		t.Errorf("the sink counted %d bytes written; want %d", n, 2*len(a)+len(b)+len(c)+len(d))
	}
}
