package repo

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/worktree"
	"github.com/dxdata/dx/store"
)

// TestTreeCache: a snapshot of files all known from the stat cache takes
// its root tree from the tree cache when their fingerprint matches and the
// tree is stored; any change of a file misses.
func TestTreeCache(t *testing.T) {
	ctx := context.Background()
	r, dir := newTestRepo(t)
	write := func(p, data string) {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		past := time.Now().Add(-time.Hour) // stat entries trusted at once
		if err := os.Chtimes(full, past, past); err != nil {
			t.Fatal(err)
		}
	}
	write("a.txt", "a\n")
	write("d/b.txt", "b\n")
	write("d/e/c.txt", "c\n")
	res, err := r.Commit(ctx, CommitOptions{Message: "one"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := dag.LoadCommit(ctx, r.Store, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	tc, ok, err := worktree.LoadTreeCache(ctx, r.Store)
	if err != nil || !ok || tc.Root != c.Tree {
		t.Fatalf("tree cache after a commit: %v %v %v, want root %s", tc, ok, err, c.Tree.Short())
	}
	snapTree := func(mode store.IngestMode) dag.ID {
		t.Helper()
		snap, err := r.takeSnapshot(ctx, mode, nil, "test", dag.ZeroID, false)
		if err != nil {
			t.Fatal(err)
		}
		return snap.tree
	}
	if got := snapTree(store.IngestHash); got != c.Tree {
		t.Fatalf("snapshot tree %s, want %s", got.Short(), c.Tree.Short())
	}

	// The cache is what a snapshot of the same files believes: point it at
	// another stored tree (the empty one) and a status snapshot says so.
	emptyID, _, err := dag.NewTreeBuilder(ctx, r.Store).Finish()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Store.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := worktree.SaveTreeCache(ctx, r.Store, worktree.TreeCache{Fingerprint: tc.Fingerprint, Root: emptyID}); err != nil {
		t.Fatal(err)
	}
	if got := snapTree(store.IngestHash); got != emptyID {
		t.Fatalf("with the cache pointed elsewhere, snapshot tree %s, want the cached %s", got.Short(), emptyID.Short())
	}
	// No snapshot takes a cached root the store lacks (one a status
	// built aside): it may be read.
	missing := dag.Hash(dag.KindTree, []byte("not stored"))
	for _, mode := range []store.IngestMode{store.IngestHash, store.IngestStore} {
		if err := worktree.SaveTreeCache(ctx, r.Store, worktree.TreeCache{Fingerprint: tc.Fingerprint, Root: missing}); err != nil {
			t.Fatal(err)
		}
		if got := snapTree(mode); got != c.Tree {
			t.Fatalf("a %s snapshot took a root the store lacks: %s, want %s", mode, got.Short(), c.Tree.Short())
		}
	}
	// It built the trees and recorded them again.
	if tc2, ok, _ := worktree.LoadTreeCache(ctx, r.Store); !ok || tc2.Root != c.Tree || tc2.Fingerprint != tc.Fingerprint {
		t.Fatalf("tree cache not rebuilt: %v", tc2)
	}
	// A changed file, a renamed one: other fingerprints, other trees.
	write("d/b.txt", "B\n")
	t2 := snapTree(store.IngestHash)
	if t2 == c.Tree {
		t.Fatalf("a changed file left the tree as it was")
	}
	if err := os.Rename(filepath.Join(dir, "a.txt"), filepath.Join(dir, "a2.txt")); err != nil {
		t.Fatal(err)
	}
	if t3 := snapTree(store.IngestHash); t3 == t2 || t3 == c.Tree {
		t.Fatalf("a renamed file left the tree as it was")
	}
}
