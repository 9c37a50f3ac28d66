package merge

import (
	"context"
	"sort"

	"github.com/dxdata/dx/dag"
)

// ConflictKind says why a path could not be merged.
type ConflictKind string

// Conflict kinds.
const (
	ConflictContent      ConflictKind = "content"       // a non-table file changed on both sides
	ConflictModifyDelete ConflictKind = "modify/delete" // changed on one side, removed on the other
	ConflictAddAdd       ConflictKind = "add/add"       // added on both sides, differently
	ConflictRename       ConflictKind = "rename"        // renamed differently, or renamed and removed
	ConflictRows         ConflictKind = "rows"          // a table with keys changed differently
	ConflictHeader       ConflictKind = "header"        // a table whose header both sides changed
)

// PathConflict is a path the merge could not settle. Merged, for a
// table with row conflicts, is the table merged with ours' version of
// every conflicting key.
type PathConflict struct {
	Path               string
	Kind               ConflictKind
	Base, Ours, Theirs *dag.TreeEntry
	Rows               []RowConflict
	Merged             *dag.TreeEntry
}

// FileMerge merges one path that both sides changed (both sides have a
// file there). It returns the merged entry, or a conflict (whose Path and
// entries it need not fill in), or ok=false when the file cannot be merged
// by content (not a table).
type FileMerge func(ctx context.Context, path string, base, ours, theirs *dag.TreeEntry) (merged *dag.TreeEntry, conflict *PathConflict, ok bool, err error)

// TreeMerge is the result of MergeTrees: the edits that turn ours into the
// merged tree (nil: remove), and the conflicts.
type TreeMerge struct {
	Edits     map[string]*dag.TreeEntry
	Conflicts []PathConflict
}

// sideChange is a path one side changed: its entry in the base and now
// (nil: absent).
type sideChange struct {
	base, now *dag.TreeEntry
}

// sideDiff is what one side changed since the base, path by path, with
// the renames (a path removed and its content added under another).
type sideDiff struct {
	changed map[string]sideChange
	renamed map[string]string // old path → new path (same content)
	from    map[string]string // new path → old path
}

// diffSide diffs the tree of base against that of tip.
func diffSide(ctx context.Context, g dag.Getter, base, tip dag.ID) (*sideDiff, error) {
	d := &sideDiff{changed: map[string]sideChange{}, renamed: map[string]string{}, from: map[string]string{}}
	type key struct {
		id   dag.ID
		mode dag.Mode
	}
	deleted := map[key][]string{}
	err := dag.DiffTrees(ctx, g, base, tip, func(p string, a, b *dag.TreeEntry) error {
		d.changed[p] = sideChange{a, b}
		if b == nil && a.Size > 0 {
			k := key{a.ID, a.Mode}
			deleted[k] = append(deleted[k], p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Pair additions with deletions of the same content: renames.
	var added []string
	for p, c := range d.changed {
		if c.base == nil {
			added = append(added, p)
		}
	}
	sort.Strings(added)
	for _, p := range added {
		c := d.changed[p]
		k := key{c.now.ID, c.now.Mode}
		if ps := deleted[k]; len(ps) > 0 {
			sort.Strings(ps)
			d.renamed[ps[0]], d.from[p] = p, ps[0]
			deleted[k] = ps[1:]
		}
	}
	return d, nil
}

func sameEntry(a, b *dag.TreeEntry) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.ID == b.ID && a.Mode == b.Mode
}

// MergeTrees merges theirs into ours from their common base, path by path:
// a path changed on one side takes that side; changed alike on both is
// fine; changed differently on both goes to fm (tables merge by rows), or
// is a conflict. A rename on one side (same content under a new path) and
// an edit on the other keep both: the edit lands at the new path.
func MergeTrees(ctx context.Context, g dag.Getter, base, ours, theirs dag.ID, fm FileMerge) (*TreeMerge, error) {
	oursDiff, err := diffSide(ctx, g, base, ours)
	if err != nil {
		return nil, err
	}
	theirsDiff, err := diffSide(ctx, g, base, theirs)
	if err != nil {
		return nil, err
	}
	res := &TreeMerge{Edits: map[string]*dag.TreeEntry{}}
	conflict := func(p string, k ConflictKind, b, o, t *dag.TreeEntry) {
		res.Conflicts = append(res.Conflicts, PathConflict{Path: p, Kind: k, Base: b, Ours: o, Theirs: t})
	}
	// both settles path p that ours changed to o and theirs to t (base b).
	both := func(p string, b, o, t *dag.TreeEntry) error {
		switch {
		case sameEntry(o, t), sameEntry(t, b):
			return nil // alike, or only ours changed it
		case sameEntry(o, b):
			res.Edits[p] = t // only theirs changed it (ours renamed it)
			return nil
		case o == nil || t == nil:
			conflict(p, ConflictModifyDelete, b, o, t)
			return nil
		case o.Mode == dag.ModeDir || t.Mode == dag.ModeDir || !o.Mode.IsFile() || !t.Mode.IsFile():
		default:
			m, pc, ok, err := fm(ctx, p, b, o, t)
			if err != nil {
				return err
			}
			if ok && pc == nil {
				res.Edits[p] = m
				return nil
			}
			if pc != nil {
				pc.Path, pc.Base, pc.Ours, pc.Theirs = p, b, o, t
				res.Conflicts = append(res.Conflicts, *pc)
				return nil
			}
		}
		k := ConflictContent
		if b == nil {
			k = ConflictAddAdd
		}
		conflict(p, k, b, o, t)
		return nil
	}
	paths := make([]string, 0, len(theirsDiff.changed))
	for p := range theirsDiff.changed {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c := theirsDiff.changed[p]
		// A rename on theirs: p is the old path (removed), q the new one.
		if q, ok := theirsDiff.renamed[p]; ok {
			oc, oursChanged := oursDiff.changed[p]
			switch {
			case !oursChanged:
				res.Edits[p] = nil
				t := theirsDiff.changed[q].now
				if oq, ok := oursDiff.changed[q]; ok && !sameEntry(oq.now, t) {
					conflict(q, ConflictAddAdd, nil, oq.now, t)
					continue
				}
				res.Edits[q] = t
			case oc.now == nil:
				if q2, ok := oursDiff.renamed[p]; ok && q2 == q {
					continue // renamed alike
				} else if ok {
					conflict(p, ConflictRename, c.base, oursDiff.changed[q2].now, theirsDiff.changed[q].now)
				} else {
					conflict(p, ConflictRename, c.base, nil, theirsDiff.changed[q].now)
				}
			default:
				// Ours edited the file theirs renamed: the edit, renamed.
				res.Edits[p] = nil
				if oq, ok := oursDiff.changed[q]; ok && oq.now != nil && !sameEntry(oq.now, oc.now) {
					conflict(q, ConflictAddAdd, nil, oq.now, oc.now)
					continue
				}
				res.Edits[q] = oc.now
			}
			continue
		}
		if _, ok := theirsDiff.from[p]; ok {
			continue // the new path of a rename, handled with its old path
		}
		// Ours renamed the path theirs changed: theirs' change lands there.
		if q, ok := oursDiff.renamed[p]; ok {
			if c.now == nil {
				conflict(p, ConflictRename, c.base, oursDiff.changed[q].now, nil)
				continue
			}
			if err := both(q, c.base, oursDiff.changed[q].now, c.now); err != nil {
				return nil, err
			}
			continue
		}
		if oc, ok := oursDiff.changed[p]; ok {
			if err := both(p, c.base, oc.now, c.now); err != nil {
				return nil, err
			}
			continue
		}
		res.Edits[p] = c.now
	}
	sort.Slice(res.Conflicts, func(i, j int) bool { return res.Conflicts[i].Path < res.Conflicts[j].Path })
	return res, nil
}
