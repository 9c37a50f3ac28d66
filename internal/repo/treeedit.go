package repo

import (
	"context"
	"sort"
	"strings"

	"github.com/dxdata/dx/dag"
)

// emptyTree stores the empty tree.
func emptyTree(ctx context.Context, p dag.Putter) (dag.ID, error) {
	id, _, err := dag.NewTreeBuilder(ctx, p).Finish()
	return id, err
}

// editTree returns root with entries at the given paths replaced (nil:
// removed). Directories left empty are removed. Cost: the directories on
// the edited paths.
func editTree(ctx context.Context, g dag.Getter, p dag.Putter, root dag.ID, edits map[string]*dag.TreeEntry) (dag.ID, error) {
	id, _, _, err := editDir(ctx, g, p, root, edits)
	return id, err
}

func editDir(ctx context.Context, g dag.Getter, p dag.Putter, dir dag.ID, edits map[string]*dag.TreeEntry) (dag.ID, uint64, int, error) {
	if e, ok := edits[""]; ok {
		if e == nil {
			return dag.ZeroID, 0, 0, nil
		}
		return e.ID, e.Size, 1, nil
	}
	var entries []dag.TreeEntry
	if !dir.IsZero() {
		var err error
		if entries, err = dag.ReadTree(ctx, g, dir); err != nil {
			return dag.ZeroID, 0, 0, err
		}
	}
	// Group edits by first component.
	sub := map[string]map[string]*dag.TreeEntry{}
	for path, e := range edits {
		first, rest, _ := strings.Cut(path, "/")
		if sub[first] == nil {
			sub[first] = map[string]*dag.TreeEntry{}
		}
		sub[first][rest] = e
	}
	byName := map[string]dag.TreeEntry{}
	for _, e := range entries {
		byName[e.Name] = e
	}
	for name, es := range sub {
		cur, exists := byName[name]
		if e, direct := es[""]; direct && len(es) == 1 {
			if e == nil {
				delete(byName, name)
			} else {
				ne := *e
				ne.Name = name
				byName[name] = ne
			}
			continue
		}
		var base dag.ID
		if exists && cur.Mode == dag.ModeDir {
			base = cur.ID
		}
		id, size, n, err := editDir(ctx, g, p, base, es)
		if err != nil {
			return dag.ZeroID, 0, 0, err
		}
		if n == 0 {
			delete(byName, name)
		} else {
			byName[name] = dag.TreeEntry{Name: name, Mode: dag.ModeDir, ID: id, Size: size}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	tb := dag.NewTreeBuilder(ctx, p)
	for _, n := range names {
		if err := tb.Add(byName[n]); err != nil {
			return dag.ZeroID, 0, 0, err
		}
	}
	id, size, err := tb.Finish()
	return id, size, len(names), err
}
