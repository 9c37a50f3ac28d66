package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/dxdata/dx/dag"
)

func openAccess(t *testing.T, dir string, a Access) *Store {
	t.Helper()
	s, err := Open(context.Background(), dir, Options{Access: a, LockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("open %s: %v", a, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestReadOnlyWritesNothing: a read-only store refuses objects and refs,
// skips caches, and leaves the index directory as it found it.
func TestReadOnlyWritesNothing(t *testing.T) {
	ctx := context.Background()
	s, dir := newStore(t)
	id := commitFile(t, s, "refs/heads/main", "f", randData(1, 1000), dag.ZeroID)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := listDir(t, filepath.Join(dir, indexDir))
	r := openAccess(t, dir, ReadOnly)
	if got, err := r.Ref(ctx, "refs/heads/main"); err != nil || got != id {
		t.Fatalf("ref: %v %v, want %s", got, err, id)
	}
	if _, err := r.Put(ctx, dag.KindChunk, []byte("new")); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("put: %v, want ErrReadOnly", err)
	}
	if err := r.Transaction(ctx, []RefUpdate{{Name: "refs/heads/x", New: id}}, nil, "t"); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("transaction: %v, want ErrReadOnly", err)
	}
	d, err := r.Derived('s')
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Update(ctx, func(b *DerivedBatch) error { return b.Set("f", []byte{1}) }); err != nil {
		t.Fatalf("derived data: %v, want it skipped", err)
	}
	if err := d.Put(ctx, "g", []byte{1}); err != nil {
		t.Fatalf("derived data: %v, want it skipped", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if after := listDir(t, filepath.Join(dir, indexDir)); after != before {
		t.Fatalf("index changed by a read-only open:\n%s\nthen\n%s", before, after)
	}
}

// TestReadersShareStore: readers open together; a writer waits for them.
func TestReadersShareStore(t *testing.T) {
	s, dir := newStore(t)
	commitFile(t, s, "refs/heads/main", "f", randData(2, 100), dag.ZeroID)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	openAccess(t, dir, ReadOnly)
	openAccess(t, dir, ReadOnly)
	if _, err := Open(context.Background(), dir, Options{LockTimeout: 100 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		t.Fatalf("writer beside readers: %v, want ErrLocked", err)
	}
}

// TestReadOnlyOpenRecovers: badger cannot open read-only the index of a
// store never written (no manifest) nor one whose writer crashed (its
// memtables must be replayed); Open then recovers it as a writer would.
func TestReadOnlyOpenRecovers(t *testing.T) {
	ctx := context.Background()
	fresh := filepath.Join(t.TempDir(), ".dx")
	if err := Init(fresh); err != nil {
		t.Fatal(err)
	}
	r := openAccess(t, fresh, ReadOnly)
	if _, err := r.Ref(ctx, "refs/heads/main"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ref in a new store: %v, want ErrNotFound", err)
	}
	r.Close()

	// A copy of a store taken while its writer runs is what a crash leaves.
	s, dir := newStore(t)
	data := randData(3, 5000)
	id := commitFile(t, s, "refs/heads/main", "f", data, dag.ZeroID)
	if err := s.syncIndex(); err != nil {
		t.Fatal(err)
	}
	crashed := filepath.Join(t.TempDir(), ".dx")
	if out, err := exec.Command("cp", "-a", dir, crashed).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	os.Remove(filepath.Join(crashed, indexDir, "LOCK"))
	mems, _ := filepath.Glob(filepath.Join(crashed, indexDir, "*.mem"))
	if len(mems) == 0 {
		t.Fatal("the copy holds no memtable: it does not stand for a crash")
	}
	r = openAccess(t, crashed, ReadOnly)
	if got, err := r.Ref(ctx, "refs/heads/main"); err != nil || got != id {
		t.Fatalf("ref after a crash: %v %v, want %s", got, err, id)
	}
	c, err := dag.LoadCommit(ctx, r, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dag.LoadTreeNode(ctx, r, c.Tree); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Put(ctx, dag.KindChunk, []byte("new")); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("put after recovery: %v, want ErrReadOnly", err)
	}
}

// listDir describes the regular files of dir: names, sizes, mtimes.
func listDir(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out string
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out += fmt.Sprintf("%s %d %s\n", fi.Name(), fi.Size(), fi.ModTime())
	}
	return out
}
