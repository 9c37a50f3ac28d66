package e2e

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// plant writes a commit whose root tree is the given raw tree node bytes
// straight into the store, as a hostile remote or a corrupted disk could,
// and points refs/heads/evil at it.
func plant(t *testing.T, dir string, rawTree func(file dag.ID) []byte) {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(dir, ".dx"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	chunk, err := s.Put(ctx, dag.KindChunk, []byte("pwned\n"))
	if err != nil {
		t.Fatal(err)
	}
	fb := dag.NewFileBuilder(ctx, s)
	if err := fb.Add(dag.ChunkRef{ID: chunk, Len: 6}); err != nil {
		t.Fatal(err)
	}
	file, _, err := fb.Finish()
	if err != nil {
		t.Fatal(err)
	}
	tree, err := s.Put(ctx, dag.KindTree, rawTree(file))
	if err != nil {
		t.Fatal(err)
	}
	c := dag.Commit{Tree: tree, Generation: 1, Author: "evil", Time: time.Unix(0, 0), Message: "evil"}
	b, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	cid, err := s.Put(ctx, dag.KindCommit, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Transaction(ctx, []store.RefUpdate{{Name: "refs/heads/evil", New: cid}}, nil, "plant"); err != nil {
		t.Fatal(err)
	}
}

func rawTreeNode(name string, mode dag.Mode, id dag.ID) []byte {
	b := []byte{dag.FormatVersion, 0, 1}
	b = binary.AppendUvarint(b, uint64(len(name)))
	b = append(b, name...)
	b = append(b, byte(mode))
	b = append(b, id[:]...)
	return binary.AppendUvarint(b, 6)
}

// TestHostileTreeRejected: a tree naming "..", "a/b", an absolute path or
// NUL is rejected on decode; checkout writes nothing anywhere.
func TestHostileTreeRejected(t *testing.T) {
	for _, name := range []string{"..", "../x", "a/b", "/etc/x", "x\x00y", "."} {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "wt")
			os.MkdirAll(dir, 0o755)
			r := &repoDir{t: t, dir: dir}
			r.ok("init")
			r.write("ok.txt", "fine\n")
			r.ok("commit", "-m", "ok")
			plant(t, dir, func(file dag.ID) []byte { return rawTreeNode(name, dag.ModeFile, file) })
			r.fails("corrupt", "checkout", "--force", "evil")
			r.fails("corrupt", "diff", "main", "evil")
			ents, _ := os.ReadDir(parent)
			if len(ents) != 1 {
				t.Fatalf("checkout wrote outside the worktree: %v", ents)
			}
			if b, _ := os.ReadFile(r.path("ok.txt")); string(b) != "fine\n" {
				t.Fatal("worktree changed by a refused checkout")
			}
			if res := r.run("fsck"); res.code == 0 {
				t.Fatal("fsck accepted a hostile tree")
			}
		})
	}
}

// TestCheckoutNeverWritesThroughSymlinks: a tracked symlink replaced by a
// directory, and an untracked symlink standing where a directory goes.
func TestCheckoutNeverWritesThroughSymlinks(t *testing.T) {
	outside := t.TempDir()
	r := newRepo(t)
	if err := os.Symlink(outside, r.path("d")); err != nil {
		t.Fatal(err)
	}
	r.ok("commit", "-m", "d is a link")
	r.ok("branch", "linked")
	os.Remove(r.path("d"))
	r.write("d/file.txt", "inside\n")
	r.write("e/x.txt", "x\n")
	r.ok("commit", "-m", "d is a dir")
	r.ok("checkout", "linked")
	if fi, err := os.Lstat(r.path("d")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("d should be a symlink again: %v", err)
	}
	r.ok("checkout", "main")
	if fi, err := os.Lstat(r.path("d")); err != nil || !fi.IsDir() {
		t.Fatalf("d should be a directory: %v", err)
	}
	// Untracked symlink where main wants the directory e.
	r.ok("checkout", "linked")
	if err := os.Symlink(outside, r.path("e")); err != nil {
		t.Fatal(err)
	}
	r.fails("would be overwritten", "checkout", "main")
	r.ok("checkout", "--force", "main")
	if fi, err := os.Lstat(r.path("e")); err != nil || !fi.IsDir() {
		t.Fatalf("e should be a directory: %v", err)
	}
	ents, _ := os.ReadDir(outside)
	if len(ents) != 0 {
		t.Fatalf("checkout wrote through a symlink into %s: %v", outside, ents)
	}
}
