package repo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/worktree"
	"github.com/dxdata/dx/merge"
)

// TestPrewriteMerged: a merged file is written ahead from the worktree
// file's chunks and new bytes, only while the worktree file is trusted to
// hold ours by its stat cache entry.
func TestPrewriteMerged(t *testing.T) {
	ctx := context.Background()
	old := []byte(strings.Repeat("0123456789abcdef", 4096)) // 64 KiB
	chunks := []dag.ChunkRef{}
	for off := 0; off < len(old); off += 8192 {
		b := old[off : off+8192]
		chunks = append(chunks, dag.ChunkRef{ID: dag.Hash(dag.KindChunk, b), Len: uint32(len(b))})
	}
	// Pieces: chunks 0-2, new bytes, chunk 4 (not contiguous with 2),
	// chunks 5-7, new bytes at the end.
	piece := func(i int) merge.Piece { return merge.Piece{Chunk: &chunks[i], Off: int64(i) * 8192} }
	pieces := []merge.Piece{piece(0), piece(1), piece(2), {Data: []byte("NEW ROWS\n")}, piece(4), piece(5), piece(6), piece(7), {Data: []byte("END\n")}}
	want := append(append(append(append([]byte{}, old[:3*8192]...), "NEW ROWS\n"...), old[4*8192:]...), "END\n"...)

	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T, path string) // before the entry is recorded
		after  func(t *testing.T, path string) // after
		record bool
		ahead  bool
	}{
		{name: "trusted", record: true, ahead: true},
		{name: "no entry", record: false, ahead: false},
		{name: "racy entry", setup: func(t *testing.T, path string) {
			now := time.Now()
			if err := os.Chtimes(path, now, now); err != nil {
				t.Fatal(err)
			}
		}, record: true, ahead: false},
		{name: "changed since", record: true, after: func(t *testing.T, path string) {
			if err := os.WriteFile(path, bytes.ToUpper(old), 0o644); err != nil {
				t.Fatal(err)
			}
		}, ahead: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, dir := newTestRepo(t)
			path := filepath.Join(dir, "t.csv")
			if err := os.WriteFile(path, old, 0o644); err != nil {
				t.Fatal(err)
			}
			past := time.Now().Add(-time.Hour)
			if err := os.Chtimes(path, past, past); err != nil {
				t.Fatal(err)
			}
			if tc.setup != nil {
				tc.setup(t, path)
			}
			ours := dag.Hash(dag.KindFile, []byte("a File id")) // only compared
			if tc.record {
				fi, err := os.Lstat(path)
				if err != nil {
					t.Fatal(err)
				}
				e := statEntry(fi, dag.ModeFile)
				e.File, e.Recorded = ours, time.Now().UnixNano()
				if err := worktree.UpdateStatCache(ctx, r.Store, worktree.Stats(map[string]worktree.StatEntry{"t.csv": e}), nil); err != nil {
					t.Fatal(err)
				}
			}
			if tc.after != nil {
				tc.after(t, path)
			}
			w := openCheckedOut(path, uint64(len(old)))
			defer w.Close()
			tmp, err := r.prewriteMerged(ctx, "t.csv", &dag.TreeEntry{Mode: dag.ModeFile, ID: ours}, w, mergedPieces{pieces: pieces})
			if err != nil {
				t.Fatal(err)
			}
			if !tc.ahead {
				if tmp != "" {
					t.Fatalf("written ahead to %s, want not", tmp)
				}
			} else {
				got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(tmp)))
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("written ahead: %d bytes (%v), want the %d merged", len(got), err, len(want))
				}
			}
			// Nothing else is left beside the file.
			es, _ := os.ReadDir(dir)
			n := 0
			for _, e := range es {
				if strings.HasPrefix(e.Name(), tmpMarker) {
					n++
				}
			}
			if want := map[bool]int{true: 1, false: 0}[tc.ahead]; n != want {
				t.Fatalf("%d temporary files, want %d", n, want)
			}
		})
	}
}
