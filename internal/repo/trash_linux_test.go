package repo

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestTrash: with a trash, a big file an update replaces or removes is
// moved there whole (the same inode), a small one is removed at once, and
// without one every file is removed at once; EmptyTrash frees the trash,
// and Close does too unless the caller said it will.
func TestTrash(t *testing.T) {
	r, dir := newTestRepo(t)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if err := os.MkdirAll(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	// file makes d/name, sparse, of size bytes, and returns its inode.
	file := func(name string, size int64) uint64 {
		t.Helper()
		f, err := os.Create(filepath.Join(dir, "d", name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		return fi.Sys().(*syscall.Stat_t).Ino
	}
	inTrash := func() map[uint64]bool {
		t.Helper()
		ents, err := os.ReadDir(TrashPath(dir))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		got := map[uint64]bool{}
		for _, e := range ents {
			fi, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			got[fi.Sys().(*syscall.Stat_t).Ino] = true
		}
		return got
	}
	gone := func(name string) {
		t.Helper()
		if _, err := os.Lstat(filepath.Join(dir, "d", name)); !os.IsNotExist(err) {
			t.Fatalf("d/%s is still there (%v)", name, err)
		}
	}
	h := newDirHandles(root).withTrash()
	defer h.close()

	bigOld := file("big", trashMinSize)
	file(tmpMarker+"1", 5)
	if err := h.replace("d/"+tmpMarker+"1", "d/big", true, trashMinSize); err != nil {
		t.Fatal(err)
	}
	gone(tmpMarker + "1")
	if got := inTrash(); len(got) != 1 || !got[bigOld] {
		t.Fatalf("after replacing a big file the trash holds %v, want its old inode %d", got, bigOld)
	}
	file("small", trashMinSize-1)
	file(tmpMarker+"2", 5)
	if err := h.replace("d/"+tmpMarker+"2", "d/small", true, trashMinSize-1); err != nil {
		t.Fatal(err)
	}
	gone(tmpMarker + "2")
	removed := file("removed", 1<<30)
	if err := h.discard("d/removed", 1<<30); err != nil {
		t.Fatal(err)
	}
	gone("removed")
	if got := inTrash(); len(got) != 2 || !got[bigOld] || !got[removed] {
		t.Fatalf("the trash holds %v, want the two big files %d and %d only", got, bigOld, removed)
	}
	if !TrashPending(dir) {
		t.Fatal("TrashPending is false with two files in the trash")
	}
	if err := EmptyTrash(dir); err != nil {
		t.Fatal(err)
	}
	if got := inTrash(); len(got) != 0 || TrashPending(dir) {
		t.Fatalf("after EmptyTrash the trash holds %v", got)
	}

	// Without a trash, big files are removed at once.
	plain := newDirHandles(root)
	defer plain.close()
	file("big2", 1<<30)
	if err := plain.discard("d/big2", 1<<30); err != nil {
		t.Fatal(err)
	}
	gone("big2")
	if got := inTrash(); len(got) != 0 {
		t.Fatalf("discard without a trash moved files there: %v", got)
	}

	// Close frees the trash, unless the caller frees it (DetachTrash).
	file("big3", trashMinSize)
	if err := h.discard("d/big3", trashMinSize); err != nil {
		t.Fatal(err)
	}
	r.opts.DetachTrash = true
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if len(inTrash()) != 1 {
		t.Fatal("Close with DetachTrash freed the trash")
	}
	r2, err := Open(t.Context(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}
	if got := inTrash(); len(got) != 0 {
		t.Fatalf("Close left %v in the trash", got)
	}

	// A trash that is a symlink (a hostile repository) is neither filled
	// nor emptied: what it points at is left as it is.
	victim := t.TempDir()
	if err := os.WriteFile(filepath.Join(victim, "precious"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(TrashPath(dir)); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, TrashPath(dir)); err != nil {
		t.Fatal(err)
	}
	h2 := newDirHandles(root).withTrash()
	defer h2.close()
	file("big4", trashMinSize)
	if err := h2.discard("d/big4", trashMinSize); err != nil {
		t.Fatal(err)
	}
	gone("big4")
	if err := EmptyTrash(dir); err == nil {
		t.Fatal("EmptyTrash of a trash that is a symlink: no error")
	}
	if TrashPending(dir) {
		t.Fatal("TrashPending through a symlink")
	}
	if ents, _ := os.ReadDir(victim); len(ents) != 1 || ents[0].Name() != "precious" {
		t.Fatalf("the directory a symlinked trash points at holds %v, want only precious", ents)
	}
}
