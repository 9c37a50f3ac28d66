package repo

import (
	"os"
	"path/filepath"
	"testing"
)

// TestInDirs: a pull writes ahead only beside a file whose every parent
// is a directory, not through a symlink (nor where a parent is missing
// or a file).
func TestInDirs(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"a/b", "elsewhere"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("elsewhere", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for p, want := range map[string]bool{
		"t.csv": true, "a/t.csv": true, "a/b/t.csv": true,
		"link/t.csv": false, "missing/t.csv": false, "file/t.csv": false, "a/missing/t.csv": false,
	} {
		if got := inDirs(root, p); got != want {
			t.Errorf("inDirs(%q) = %v, want %v", p, got, want)
		}
	}
}
