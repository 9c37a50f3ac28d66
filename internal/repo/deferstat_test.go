//go:build unix

package repo

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/worktree"
	"github.com/dxdata/dx/store"
)

// TestDeferredStats: with an empty stat cache a scan leaves regular files
// unstatted and ingest stats them through the descriptor that reads them.
// The entries so recorded must equal what a later scan's lstat sees (a
// status after the first commit reads nothing), the tree must carry the
// execute bit and sizes an lstat gives, and once the cache holds entries
// scans stat every file again.
func TestDeferredStats(t *testing.T) {
	if !store.StatsOpened {
		t.Skip("ingest cannot stat open files on this system")
	}
	ctx := context.Background()
	r, dir := newTestRepo(t)
	past := time.Now().Add(-time.Hour) // stat entries trusted at once
	files := map[string]struct {
		data string
		perm os.FileMode
	}{
		"a.txt":       {"alpha\n", 0o644},
		"run.sh":      {"#!/bin/sh\necho hi\n", 0o755},
		"d/b.csv":     {"id,v\n1,2\n", 0o644},
		"d/e/empty":   {"", 0o644},
		"d/e/tool.py": {"print(1)\n", 0o700},
	}
	for p, f := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(f.data), f.perm); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(full, past, past); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink("a.txt", link); err != nil {
		t.Fatal(err)
	}
	tv := []unix.Timeval{unix.NsecToTimeval(past.UnixNano()), unix.NsecToTimeval(past.UnixNano())}
	if err := unix.Lutimes(link, tv); err != nil {
		t.Fatal(err)
	}

	// The scan of a worktree with no stat cache defers its regular files.
	sc, err := r.newScanner(ctx, r.Root, nil)
	if err != nil {
		t.Fatal(err)
	}
	if has, err := worktree.HasStats(ctx, r.Store); err != nil || has {
		t.Fatalf("HasStats before any commit: %v, %v; want false", has, err)
	}
	sc.deferFiles = true
	root, err := sc.scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	deferred := 0
	for _, n := range fileNodes(root) {
		if n.deferred {
			deferred++
			if n.stat != (worktree.StatEntry{}) {
				t.Errorf("%s: deferred but statted: %+v", n.path, n.stat)
			}
		} else if n.mode != dag.ModeSymlink {
			t.Errorf("%s (mode %v): not deferred", n.path, n.mode)
		}
	}
	if deferred != len(files) {
		t.Fatalf("%d files deferred, want %d", deferred, len(files))
	}

	res, err := r.Commit(ctx, CommitOptions{Message: "one"})
	if err != nil {
		t.Fatal(err)
	}
	if res.FilesRead != len(files)+1 {
		t.Fatalf("first commit read %d files, want %d", res.FilesRead, len(files)+1)
	}
	c, err := dag.LoadCommit(ctx, r.Store, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	for p, f := range files {
		e, err := dag.LookupPath(ctx, r.Store, c.Tree, p)
		if err != nil {
			t.Fatal(err)
		}
		want := dag.ModeFile
		if f.perm&0o111 != 0 {
			want = dag.ModeExec
		}
		if e.Mode != want || e.Size != uint64(len(f.data)) {
			t.Errorf("%s: tree entry mode %v size %d, want %v %d", p, e.Mode, e.Size, want, len(f.data))
		}
	}

	// Every entry recorded from an open file matches the lstat of a later
	// scan, which now stats (the cache is not empty): nothing is read.
	if has, err := worktree.HasStats(ctx, r.Store); err != nil || !has {
		t.Fatalf("HasStats after a commit: %v, %v; want true", has, err)
	}
	st, err := r.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.FilesRead != 0 {
		t.Fatalf("status after the first commit read %d files, want 0 (stat entries from open files must match lstat)", st.FilesRead)
	}
	snap, err := r.takeSnapshot(ctx, store.IngestHash, nil, "test", c.Tree, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range fileNodes(snap.root) {
		if n.deferred || !n.fromCache {
			t.Errorf("%s: deferred %v, from the cache %v; want a statted file from the cache", n.path, n.deferred, n.fromCache)
		}
	}
	if snap.tree != c.Tree {
		t.Fatalf("snapshot tree %s, want the commit's %s", snap.tree.Short(), c.Tree.Short())
	}

	// An edit is seen by the statting scan and read again.
	full := filepath.Join(dir, "d", "b.csv")
	if err := os.WriteFile(full, []byte("id,v\n1,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(full, past.Add(time.Minute), past.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if st, err = r.Status(ctx); err != nil {
		t.Fatal(err)
	}
	if st.FilesRead != 1 {
		t.Fatalf("status after one edit read %d files, want 1", st.FilesRead)
	}
}
