package usage

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dxdata/dx/dag"
)

// treeGraph is a mapGraph with kinds and tree nodes.
type treeGraph struct {
	mapGraph
	kinds map[dag.ID]dag.Kind
	trees map[dag.ID]*dag.TreeNode
}

func (g treeGraph) Kind(_ context.Context, id dag.ID) (dag.Kind, bool, error) {
	k, ok := g.kinds[id]
	return k, ok, nil
}

func (g treeGraph) TreeNode(_ context.Context, id dag.ID) (*dag.TreeNode, error) {
	return g.trees[id], nil
}

// TestByPathAgainstSets: random histories whose versions put random
// files (sharing chunks) at a few paths, one of them in a directory; each
// path's bytes, exclusive and shared equal sums over the union of its
// files' closures, computed as plain sets from the versions.
func TestByPathAgainstSets(t *testing.T) {
	paths := []string{"a.csv", "b.csv", "d/x.bin", "d/y.bin"}
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 3))
		g := treeGraph{mapGraph{links: map[dag.ID][]dag.ID{}, size: map[dag.ID]int64{}}, map[dag.ID]dag.Kind{}, map[dag.ID]*dag.TreeNode{}}
		n := byte(0)
		add := func(kind dag.Kind, size int64, links ...dag.ID) dag.ID {
			n++
			id := dag.ID{n, byte(kind), byte(seed)}
			g.size[id], g.kinds[id], g.links[id] = size, kind, links
			return id
		}
		chunks := make([]dag.ID, 12)
		for i := range chunks {
			chunks[i] = add(dag.KindChunk, int64(1+r.IntN(1000)))
		}
		files := make([]dag.ID, 8)
		for i := range files {
			var cs []dag.ID
			for range 1 + r.IntN(3) {
				c := chunks[r.IntN(len(chunks))]
				if !slices.Contains(cs, c) {
					cs = append(cs, c)
				}
			}
			files[i] = add(dag.KindFile, int64(10+r.IntN(50)), cs...)
		}
		closure := func(f dag.ID) []dag.ID { return append([]dag.ID{f}, g.links[f]...) }
		want := map[string]map[dag.ID]bool{}
		var refs []Ref
		var parent []dag.ID
		for v := range 2 + r.IntN(5) {
			// A version: a file (or none) at each path.
			at := map[string]dag.ID{}
			for _, p := range paths {
				if r.IntN(4) > 0 {
					at[p] = files[r.IntN(len(files))]
				}
			}
			var dir, root dag.TreeNode
			for _, p := range paths {
				f, ok := at[p]
				if !ok {
					continue
				}
				if want[p] == nil {
					want[p] = map[dag.ID]bool{}
				}
				for _, x := range closure(f) {
					want[p][x] = true
				}
				if len(p) > 2 && p[:2] == "d/" {
					dir.Entries = append(dir.Entries, dag.TreeEntry{Name: p[2:], Mode: dag.ModeFile, ID: f})
				} else {
					root.Entries = append(root.Entries, dag.TreeEntry{Name: p, Mode: dag.ModeFile, ID: f})
				}
			}
			links := []dag.ID{}
			for _, e := range root.Entries {
				links = append(links, e.ID)
			}
			if len(dir.Entries) > 0 {
				d := add(dag.KindTree, 30)
				g.trees[d] = &dir
				for _, e := range dir.Entries {
					g.links[d] = append(g.links[d], e.ID)
				}
				root.Entries = append(root.Entries, dag.TreeEntry{Name: "d", Mode: dag.ModeDir, ID: d})
				links = append(links, d)
			}
			rt := add(dag.KindTree, 40, links...)
			g.trees[rt] = &root
			c := add(dag.KindCommit, 100, append([]dag.ID{rt}, parent...)...)
			parent = []dag.ID{c}
			refs = append(refs, Ref{Name: fmt.Sprint(v), ID: c})
		}
		rep, err := ByPath(context.Background(), g, refs[len(refs)-1:])
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Rows) != len(want) {
			t.Fatalf("seed %d: %d rows, want %d", seed, len(rep.Rows), len(want))
		}
		for _, row := range rep.Rows {
			var bytes, excl int64
			for id := range want[row.Name] {
				bytes += g.size[id]
				alone := true
				for other, s := range want {
					alone = alone && (other == row.Name || !s[id])
				}
				if alone {
					excl += g.size[id]
				}
			}
			if row.Bytes != bytes || row.Exclusive != excl || row.Shared != bytes-excl || row.Objects != len(want[row.Name]) {
				t.Fatalf("seed %d, %s: %+v, want bytes %d exclusive %d", seed, row.Name, row, bytes, excl)
			}
		}
	}
}
