package repo

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMoveDirIntoPlace: a directory made whole moves in one rename; where
// a directory got to its path meanwhile, it takes the temporary's entries
// one by one (subdirectories merged), refusing to replace a file unless
// forced; a replay whose temporary is gone, or is not the update's, does
// nothing.
func TestMoveDirIntoPlace(t *testing.T) {
	dir := t.TempDir()
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(p string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	root, h := openHandles(t, dir)
	made := &madeDirs{set: map[string]bool{}}
	rename := func(tmp, p string) journalRename {
		fi, err := os.Lstat(filepath.Join(dir, tmp))
		if err != nil {
			t.Fatal(err)
		}
		return journalRename{Tmp: tmp, Path: p, Inode: inodeOf(fi), New: true, Dir: true}
	}

	write(".dx-tmp-a-1/x/1", "one")
	rn := rename(".dx-tmp-a-1", "a")
	if err := moveDirIntoPlace(root, h, rn, false, false, made); err != nil {
		t.Fatal(err)
	}
	if read("a/x/1") != "one" {
		t.Fatal("not moved")
	}
	if err := moveDirIntoPlace(root, h, rn, false, true, made); err != nil {
		t.Fatalf("replay of a move done: %v", err)
	}

	write(".dx-tmp-a-2/x/2", "two")
	write(".dx-tmp-a-2/y", "y")
	write("b/x/user", "user's")
	if err := moveDirIntoPlace(root, h, rename(".dx-tmp-a-2", "b"), false, false, made); err != nil {
		t.Fatal(err)
	}
	if read("b/x/2") != "two" || read("b/y") != "y" || read("b/x/user") != "user's" {
		t.Fatal("not merged into the directory in the way")
	}
	if _, err := os.Lstat(filepath.Join(dir, ".dx-tmp-a-2")); !os.IsNotExist(err) {
		t.Fatalf("temporary left after a merge: %v", err)
	}

	write(".dx-tmp-a-3/z", "new")
	write("c/z", "user's")
	rn = rename(".dx-tmp-a-3", "c")
	if err := moveDirIntoPlace(root, h, rn, false, false, made); err == nil {
		t.Fatal("a file in the way replaced without force")
	}
	if read("c/z") != "user's" {
		t.Fatal("the user's file changed")
	}
	if err := moveDirIntoPlace(root, h, rn, true, true, made); err != nil || read("c/z") != "new" {
		t.Fatalf("forced: %v", err)
	}

	write(".dx-tmp-a-4/w", "w")
	rn = rename(".dx-tmp-a-4", "d")
	rn.Inode++
	if err := moveDirIntoPlace(root, h, rn, false, true, made); err != nil {
		t.Fatal(err)
	}
	if read(".dx-tmp-a-4/w") != "w" {
		t.Fatal("a temporary that is not the update's was moved")
	}
	if _, err := os.Lstat(filepath.Join(dir, "d")); !os.IsNotExist(err) {
		t.Fatalf("moved: %v", err)
	}
}
