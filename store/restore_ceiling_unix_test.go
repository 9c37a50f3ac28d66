//go:build unix

package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/storetest"
	"github.com/dxdata/dx/store"
)

// TestRestoreCeilingManyFiles: files are open only while written, so
// many more files than the process may open at once are restored.
func TestRestoreCeilingManyFiles(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	low := lim
	low.Cur = 128
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	ctx := context.Background()
	st := storetest.Open(t)
	tree := storetest.RandomTree(t, st, 9, 1)
	var id dag.ID
	if err := dag.WalkTree(ctx, st, tree, func(_ string, e dag.TreeEntry) error { id = e.ID; return nil }); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := make([]store.CeilingFile, 500)
	for i := range files {
		files[i] = store.CeilingFile{ID: id, Path: filepath.Join(dir, fmt.Sprint(i))}
	}
	n, err := st.RestoreCeiling(ctx, files)
	if err != nil || n != 500*64<<10 {
		t.Fatalf("%d bytes, %v", n, err)
	}
}
