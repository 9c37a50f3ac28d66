package repo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dxdata/dx/dag"
)

// TestCommitPathsReadsTheChange: a commit of one path of a big worktree
// reads a few objects, not every tree of HEAD, and records exactly that
// path's change, the rest of HEAD kept.
func TestCommitPathsReadsTheChange(t *testing.T) {
	ctx := context.Background()
	r, dir := newTestRepo(t)
	for d := range 60 {
		for f := range 10 {
			p := filepath.Join(dir, fmt.Sprintf("d%02d", d), fmt.Sprintf("f%d.txt", f))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	first, err := r.Commit(ctx, CommitOptions{Message: "all"})
	if err != nil {
		t.Fatal(err)
	}
	// One file changed on disk, one other not committed.
	for _, p := range []string{"d07/f3.txt", "d50/f1.txt"} {
		if err := os.WriteFile(filepath.Join(dir, p), []byte("changed "+p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := r.Store.Stats().ObjectsRead.Load()
	res, err := r.Commit(ctx, CommitOptions{Message: "one", Paths: []string{"d07/f3.txt"}})
	if err != nil {
		t.Fatal(err)
	}
	if read := r.Store.Stats().ObjectsRead.Load() - before; read > 20 {
		t.Errorf("a commit of one path read %d objects (HEAD has 61 trees)", read)
	}
	if len(res.Changes) != 1 || res.Changes[0].Path != "d07/f3.txt" || res.Changes[0].Kind != Modified {
		t.Fatalf("changes %+v, want d07/f3.txt modified", res.Changes)
	}
	var changed []string
	c1, err := dag.LoadCommit(ctx, r.Store, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := dag.LoadCommit(ctx, r.Store, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := dag.DiffTrees(ctx, r.Store, c1.Tree, c2.Tree, func(p string, _, _ *dag.TreeEntry) error {
		changed = append(changed, p)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(changed, []string{"d07/f3.txt"}) {
		t.Fatalf("trees differ at %v, want d07/f3.txt", changed)
	}
}
