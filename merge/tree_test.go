package merge_test

import (
	"context"
	"path"
	"sort"
	"strings"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/merge"
)

func (m memObjects) Put(_ context.Context, k dag.Kind, b []byte) (dag.ID, error) {
	id := dag.Hash(k, b)
	m[id] = append([]byte(nil), b...)
	return id, nil
}

// mkTree stores files (path → content; "@" prefix: a table) as a tree.
func mkTree(t *testing.T, objs memObjects, files map[string]string) dag.ID {
	t.Helper()
	ctx := context.Background()
	type dir struct {
		entries map[string]dag.TreeEntry
		subdirs map[string]*dir
	}
	root := &dir{entries: map[string]dag.TreeEntry{}, subdirs: map[string]*dir{}}
	for p, content := range files {
		d := root
		parts := strings.Split(p, "/")
		for _, c := range parts[:len(parts)-1] {
			if d.subdirs[c] == nil {
				d.subdirs[c] = &dir{entries: map[string]dag.TreeEntry{}, subdirs: map[string]*dir{}}
			}
			d = d.subdirs[c]
		}
		fb := dag.NewFileBuilder(ctx, objs)
		cid, _ := objs.Put(ctx, dag.KindChunk, []byte(content))
		if err := fb.Add(dag.ChunkRef{ID: cid, Len: uint32(len(content))}); err != nil {
			t.Fatal(err)
		}
		id, size, err := fb.Finish()
		if err != nil {
			t.Fatal(err)
		}
		name := parts[len(parts)-1]
		d.entries[name] = dag.TreeEntry{Name: name, Mode: dag.ModeFile, ID: id, Size: size}
	}
	var build func(d *dir) dag.ID
	build = func(d *dir) dag.ID {
		for n, s := range d.subdirs {
			d.entries[n] = dag.TreeEntry{Name: n, Mode: dag.ModeDir, ID: build(s)}
		}
		names := make([]string, 0, len(d.entries))
		for n := range d.entries {
			names = append(names, n)
		}
		sort.Strings(names)
		tb := dag.NewTreeBuilder(ctx, objs)
		for _, n := range names {
			if err := tb.Add(d.entries[n]); err != nil {
				t.Fatal(err)
			}
		}
		id, _, err := tb.Finish()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	return build(root)
}

func TestMergeTrees(t *testing.T) {
	base := map[string]string{"a.txt": "a", "b.txt": "b", "c.txt": "c", "d/e.txt": "e", "t.csv": "table", "r.txt": "rename me", "s.txt": "ours renames me"}
	ours := map[string]string{
		"a.txt":        "a-ours",                    // ours only
		"b.txt":        "b-both",                    // both alike
		"c.txt":        "c-ours",                    // both differently: conflict
		"d/e.txt":      "e-ours",                    // modify/delete
		"t.csv":        "table-ours",                // both: table merge
		"r.txt":        "rename me, edited by ours", // theirs renames it
		"new-ours.txt": "n",
		"s2.txt":       "ours renames me", // ours renamed s.txt
	}
	theirs := map[string]string{
		"a.txt": "a", "b.txt": "b-both", "c.txt": "c-theirs",
		"t.csv":   "table-theirs",
		"r2.txt":  "rename me",
		"s.txt":   "ours renames me, edited by theirs",
		"add.txt": "theirs only",
	}
	objs := memObjects{}
	b, o, th := mkTree(t, objs, base), mkTree(t, objs, ours), mkTree(t, objs, theirs)
	var merged []string
	fm := func(ctx context.Context, p string, bb, oo, tt *dag.TreeEntry) (*dag.TreeEntry, *merge.PathConflict, bool, error) {
		if path.Ext(p) != ".csv" {
			return nil, nil, false, nil
		}
		merged = append(merged, p)
		return oo, nil, true, nil
	}
	res, err := merge.MergeTrees(context.Background(), objs, b, o, th, fm)
	if err != nil {
		t.Fatal(err)
	}
	var conflicts []string
	for _, c := range res.Conflicts {
		conflicts = append(conflicts, c.Path+":"+string(c.Kind))
	}
	if got, want := strings.Join(conflicts, " "), "c.txt:content d/e.txt:modify/delete"; got != want {
		t.Errorf("conflicts %q, want %q", got, want)
	}
	if strings.Join(merged, " ") != "t.csv" {
		t.Errorf("file merges: %v", merged)
	}
	content := func(e *dag.TreeEntry) string {
		if e == nil {
			return "<removed>"
		}
		fn, err := dag.LoadFileNode(context.Background(), objs, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		return string(objs[fn.Chunks[0].ID])
	}
	edits := map[string]string{}
	for p, e := range res.Edits {
		edits[p] = content(e)
	}
	want := map[string]string{
		"t.csv":   "table-ours",
		"r.txt":   "<removed>",
		"r2.txt":  "rename me, edited by ours",         // ours' edit, under theirs' new name
		"s2.txt":  "ours renames me, edited by theirs", // theirs' edit, under ours' new name
		"add.txt": "theirs only",
	}
	for p, w := range want {
		if edits[p] != w {
			t.Errorf("edit %s = %q, want %q", p, edits[p], w)
		}
	}
	for p := range edits {
		if _, ok := want[p]; !ok {
			t.Errorf("unexpected edit %s = %q", p, edits[p])
		}
	}
}
