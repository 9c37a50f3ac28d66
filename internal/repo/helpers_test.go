package repo

import (
	"context"
	"os"
	"testing"
)

// newTestRepo creates a repository in a temporary directory and opens it
// (closed when the test ends).
func newTestRepo(t *testing.T) (*Repo, string) {
	t.Helper()
	dir := t.TempDir()
	if _, err := Init(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	r, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, dir
}

// openHandles opens dir as a Root with its directory handles, both
// closed when the test ends.
func openHandles(t *testing.T, dir string) (*os.Root, *dirHandles) {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := newDirHandles(root)
	t.Cleanup(func() {
		h.close()
		root.Close()
	})
	return root, h
}
