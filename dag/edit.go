package dag

import (
	"context"
	"sort"
	"strings"
)

// EmptyTree stores the tree of no entries and returns its ID.
func EmptyTree(ctx context.Context, p Putter) (ID, error) {
	id, _, err := NewTreeBuilder(ctx, p).Finish()
	return id, err
}

// EditTree returns tree root with the entries at the given paths (slash-
// separated) replaced, or removed where the edit is nil; the path "" is
// the root itself. Directories left empty are removed. It reads and writes
// only the directories on the edited paths.
func EditTree(ctx context.Context, g Getter, p Putter, root ID, edits map[string]*TreeEntry) (ID, error) {
	id, _, _, err := editDir(ctx, g, p, root, edits)
	return id, err
}

func editDir(ctx context.Context, g Getter, p Putter, dir ID, edits map[string]*TreeEntry) (ID, uint64, int, error) {
	if e, ok := edits[""]; ok {
		if e == nil {
			return ZeroID, 0, 0, nil
		}
		return e.ID, e.Size, 1, nil
	}
	var entries []TreeEntry
	if !dir.IsZero() {
		var err error
		if entries, err = ReadTree(ctx, g, dir); err != nil {
			return ZeroID, 0, 0, err
		}
	}
	// Group edits by first component.
	sub := map[string]map[string]*TreeEntry{}
	for path, e := range edits {
		first, rest, _ := strings.Cut(path, "/")
		if sub[first] == nil {
			sub[first] = map[string]*TreeEntry{}
		}
		sub[first][rest] = e
	}
	byName := map[string]TreeEntry{}
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
		var base ID
		if exists && cur.Mode == ModeDir {
			base = cur.ID
		}
		id, size, n, err := editDir(ctx, g, p, base, es)
		if err != nil {
			return ZeroID, 0, 0, err
		}
		if n == 0 {
			delete(byName, name)
		} else {
			byName[name] = TreeEntry{Name: name, Mode: ModeDir, ID: id, Size: size}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	tb := NewTreeBuilder(ctx, p)
	for _, n := range names {
		if err := tb.Add(byName[n]); err != nil {
			return ZeroID, 0, 0, err
		}
	}
	id, size, err := tb.Finish()
	return id, size, len(names), err
}
