package store_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/storetest"
	"github.com/dxdata/dx/store"
)

// TestRestoreCeilingWritesTheFiles: the ceiling writes each file's exact
// bytes, as CopyFile reads them.
func TestRestoreCeilingWritesTheFiles(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	dir := t.TempDir()
	var files []store.CeilingFile
	var want [][]byte
	// Empty files, one chunk, several batches: the small files in one
	// directory are a run of one worker, in order, the empty ones after
	// others.
	for i, n := range []int{0, 1, 0, 200, 0, 3, 0} {
		tree := storetest.RandomTree(t, st, uint64(i+1), n)
		var id dag.ID
		err := dag.WalkTree(ctx, st, tree, func(_ string, e dag.TreeEntry) error { id = e.ID; return nil })
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := st.CopyFile(ctx, id, &b, store.CopyOptions{}); err != nil {
			t.Fatal(err)
		}
		want = append(want, b.Bytes())
		files = append(files, store.CeilingFile{ID: id, Path: filepath.Join(dir, string(rune('a'+i)))})
	}
	n, err := st.RestoreCeiling(ctx, files)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for i, f := range files {
		got, err := os.ReadFile(f.Path)
		if err != nil || !bytes.Equal(got, want[i]) {
			t.Fatalf("file %d: %d bytes, want %d (%v)", i, len(got), len(want[i]), err)
		}
		total += int64(len(got))
	}
	if n != total {
		t.Fatalf("reported %d bytes, wrote %d", n, total)
	}
}

// TestRestoreCeilingMissingFile: a File object the store lacks fails the
// ceiling, whichever worker lists it, and nothing is written.
func TestRestoreCeilingMissingFile(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	dir := t.TempDir()
	var files []store.CeilingFile
	for i := range 20 {
		id := dag.Hash(dag.KindFile, []byte{byte(i)}) // stored nowhere
		files = append(files, store.CeilingFile{ID: id, Path: filepath.Join(dir, string(rune('a'+i)))})
	}
	if _, err := st.RestoreCeiling(ctx, files); err == nil {
		t.Fatal("restored files the store does not hold")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("wrote %d files", len(ents))
	}
}
