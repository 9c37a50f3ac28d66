package dag

import (
	"context"
	"errors"
	"testing"
)

func TestEditTree(t *testing.T) {
	ctx := context.Background()
	m := newMem()
	file := func(s string) *TreeEntry {
		id, err := m.Put(ctx, KindChunk, []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return &TreeEntry{Mode: ModeFile, ID: id, Size: uint64(len(s))}
	}
	empty, err := EmptyTree(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	root, err := EditTree(ctx, m, m, empty, map[string]*TreeEntry{"a/b/c.csv": file("c"), "a/d.csv": file("d"), "e.csv": file("e")})
	if err != nil {
		t.Fatal(err)
	}
	paths := func(tree ID) map[string]ID {
		got := map[string]ID{}
		if err := WalkTree(ctx, m, tree, func(p string, e TreeEntry) error {
			if e.Mode != ModeDir {
				got[p] = e.ID
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := paths(root); len(got) != 3 || got["a/b/c.csv"] != file("c").ID || got["a/d.csv"] != file("d").ID || got["e.csv"] != file("e").ID {
		t.Fatalf("after adding: %v", got)
	}
	// Removing the only file of a directory removes the directory.
	root2, err := EditTree(ctx, m, m, root, map[string]*TreeEntry{"a/b/c.csv": nil, "e.csv": file("e2")})
	if err != nil {
		t.Fatal(err)
	}
	if got := paths(root2); len(got) != 2 || got["a/d.csv"] != file("d").ID || got["e.csv"] != file("e2").ID {
		t.Fatalf("after removing: %v", got)
	}
	if _, err := LookupPath(ctx, m, root2, "a/b"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a/b left behind: %v", err)
	}
	// The same edits give the same tree, whatever tree they start from.
	again, err := EditTree(ctx, m, m, empty, map[string]*TreeEntry{"a/d.csv": file("d"), "e.csv": file("e2")})
	if err != nil || again != root2 {
		t.Fatalf("rebuilt %s, %v; want %s", again.Short(), err, root2.Short())
	}
	// The path "" replaces the root.
	if got, err := EditTree(ctx, m, m, root, map[string]*TreeEntry{"": {Mode: ModeDir, ID: root2}}); err != nil || got != root2 {
		t.Fatalf(`edit of "": %s, %v`, got.Short(), err)
	}
}
