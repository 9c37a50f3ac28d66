// Package storetest builds stores and random content for tests.
package storetest

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// Open creates a store in a temporary directory, closed at the test's end.
func Open(t testing.TB) *store.Store {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "store")
	if err := store.Init(dir); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// RandomTree stores a tree of one file, data.bin, of n random 64 KiB
// chunks drawn from seed.
func RandomTree(t testing.TB, st *store.Store, seed uint64, n int) dag.ID {
	t.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed, 2))
	fb := dag.NewFileBuilder(ctx, st)
	buf := make([]byte, 64<<10)
	for range n {
		for j := range buf {
			buf[j] = byte(r.Uint32())
		}
		id, err := st.Put(ctx, dag.KindChunk, buf)
		if err != nil {
			t.Fatal(err)
		}
		if err := fb.Add(dag.ChunkRef{ID: id, Len: uint32(len(buf))}); err != nil {
			t.Fatal(err)
		}
	}
	file, size, err := fb.Finish()
	if err != nil {
		t.Fatal(err)
	}
	tb := dag.NewTreeBuilder(ctx, st)
	if err := tb.Add(dag.TreeEntry{Name: "data.bin", Mode: dag.ModeFile, ID: file, Size: size}); err != nil {
		t.Fatal(err)
	}
	tree, _, err := tb.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// Commit stores a commit of c (its Tree, Parents, Generation…, with an
// author and message when empty) and flushes the store.
func Commit(t testing.TB, st *store.Store, c dag.Commit) dag.ID {
	t.Helper()
	ctx := context.Background()
	if c.Author == "" {
		c.Author = "t"
	}
	if c.Message == "" {
		c.Message = "m"
	}
	if c.Time.IsZero() {
		c.Time = time.Unix(1, 0)
	}
	if c.Generation == 0 {
		c.Generation = 1
	}
	b, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	id, err := st.Put(ctx, dag.KindCommit, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return id
}
