package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/storetest"
	"github.com/dxdata/dx/store"
)

// TestShallow: a missing parent of a shallow commit reads as
// dag.ErrShallow (and not found), walks and fsck pass over it; any other
// missing commit stays a plain not-found, and a problem for fsck. A
// shallow commit that is gone itself changes nothing.
func TestShallow(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	tree := storetest.RandomTree(t, st, 1, 2)
	cut := dag.ID{1, 2, 3}   // a parent the store lacks
	other := dag.ID{4, 5, 6} // another missing commit
	c := storetest.Commit(t, st, dag.Commit{Tree: tree, Parents: []dag.ID{cut}, Generation: 2})
	if err := st.AddShallow(ctx, []dag.ID{c, {9, 9}}); err != nil { // {9, 9}: a shallow commit gone since
		t.Fatal(err)
	}
	if _, err := st.Get(ctx, dag.KindCommit, cut); !errors.Is(err, dag.ErrShallow) || !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cut parent: %v", err)
	}
	if _, err := st.Get(ctx, dag.KindCommit, other); errors.Is(err, dag.ErrShallow) || !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other commit: %v", err)
	}
	if err := st.Transaction(ctx, []store.RefUpdate{{Name: "refs/heads/main", New: c}}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	rep, err := st.Fsck(ctx, store.FsckOptions{Full: true})
	if err != nil || !rep.OK() || rep.Shallow != 2 {
		t.Fatalf("fsck: %+v %v", rep, err)
	}
	// A commit naming a missing parent that is not cut is a problem.
	bad := storetest.Commit(t, st, dag.Commit{Tree: tree, Parents: []dag.ID{other}, Generation: 2})
	if err := st.Transaction(ctx, []store.RefUpdate{{Name: "refs/heads/bad", New: bad}}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	if rep, err := st.Fsck(ctx, store.FsckOptions{}); err != nil || rep.OK() {
		t.Fatalf("fsck with a missing parent not cut: %+v %v", rep, err)
	}
}
