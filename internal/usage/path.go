package usage

import (
	"context"
	"errors"
	"slices"

	"github.com/dxdata/dx/dag"
)

// Trees is a Graph that also says what kind each object is and decodes
// trees, for the account by path.
type Trees interface {
	Graph
	// Kind is the kind of an object the graph holds (ok false: it
	// holds none by that id).
	Kind(ctx context.Context, id dag.ID) (kind dag.Kind, ok bool, err error)
	// TreeNode decodes a tree node the graph holds.
	TreeNode(ctx context.Context, id dag.ID) (*dag.TreeNode, error)
}

// ByPath accounts for each file path of every version the refs reach
// (history included): the stored bytes of the contents held under that
// path (file nodes and chunks), those held under no other path
// (exclusive: what dropping that path from every version would free) and
// those another path shares. Directories and commits are not counted.
func ByPath(ctx context.Context, g Trees, refs []Ref) (*Report, error) {
	objs := map[dag.ID]*obj{}
	rows := map[string]*Row{}
	reached := map[string][]dag.ID{}
	held := map[string]map[dag.ID]bool{} // reached, as sets
	var names []string
	files := map[dag.ID][]dag.ID{} // file node → its closure
	type at struct {
		id   dag.ID
		path string
	}
	seenTree := map[at]bool{}
	seenFile := map[at]bool{}
	seen := map[dag.ID]bool{}
	// file attributes a file node's contents to path.
	file := func(id dag.ID, path string) error {
		if seenFile[at{id, path}] {
			return nil
		}
		seenFile[at{id, path}] = true
		row, ok := rows[path]
		if !ok {
			row = &Row{Name: path}
			rows[path] = row
			held[path] = map[dag.ID]bool{}
			names = append(names, path)
		}
		closure, ok := files[id]
		if !ok {
			in := map[dag.ID]bool{}
			queue := []dag.ID{id}
			for len(queue) > 0 {
				x := queue[len(queue)-1]
				queue = queue[:len(queue)-1]
				if in[x] {
					continue
				}
				in[x] = true
				o, err := load(ctx, g, objs, x, path)
				if errors.Is(err, errMissing) {
					row.Missing++
					continue
				}
				if err != nil || o == nil {
					return err
				}
				closure = append(closure, x)
				queue = append(queue, o.links...)
			}
			files[id] = closure
		}
		for _, x := range closure {
			o := objs[x]
			if o.owner != path {
				o.many = true
			}
			if !held[path][x] {
				held[path][x] = true
				reached[path] = append(reached[path], x)
			}
		}
		return nil
	}
	// tree walks a directory (one tree node and its sub-nodes) at path.
	var tree func(id dag.ID, path string) error
	tree = func(id dag.ID, path string) error {
		if seenTree[at{id, path}] {
			return nil
		}
		seenTree[at{id, path}] = true
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := g.TreeNode(ctx, id)
		if err != nil {
			return err
		}
		for _, c := range n.Children {
			if err := tree(c.ID, path); err != nil {
				return err
			}
		}
		for _, e := range n.Entries {
			p := e.Name
			if path != "" {
				p = path + "/" + e.Name
			}
			if e.Mode == dag.ModeDir {
				err = tree(e.ID, p)
			} else {
				err = file(e.ID, p)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	// From the refs through commits and models to the root trees.
	var queue []dag.ID
	for _, r := range refs {
		queue = append(queue, r.ID)
	}
	for len(queue) > 0 {
		id := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		kind, ok, err := g.Kind(ctx, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue // a parent cut below a shallow commit, or missing
		}
		if kind == dag.KindTree {
			if err := tree(id, ""); err != nil {
				return nil, err
			}
			continue
		}
		ls, _, _, err := g.Object(ctx, id)
		if err != nil {
			return nil, err
		}
		queue = append(queue, ls...)
	}
	slices.Sort(names)
	return tally(names, rows, reached, objs), nil
}
