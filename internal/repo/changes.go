package repo

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/dxdata/dx/dag"
)

// ChangeKind classifies one file-level difference.
type ChangeKind string

// Change kinds.
const (
	Added    ChangeKind = "added"
	Deleted  ChangeKind = "deleted"
	Modified ChangeKind = "modified"
	Renamed  ChangeKind = "renamed"
)

// Change is one file-level difference between two trees.
type Change struct {
	Kind    ChangeKind     `json:"kind"`
	Path    string         `json:"path"`
	From    string         `json:"from,omitempty"` // renames: the old path
	Old     *dag.TreeEntry `json:"-"`
	New     *dag.TreeEntry `json:"-"`
	OldSize uint64         `json:"old_size"`
	NewSize uint64         `json:"new_size"`
	OldID   string         `json:"old_id,omitempty"`
	NewID   string         `json:"new_id,omitempty"`
}

// MarshalJSON writes the change with its File IDs in hex, made here
// rather than for every change of a commit of many files that nobody
// prints.
func (c Change) MarshalJSON() ([]byte, error) {
	type plain Change
	p := plain(c)
	if p.Old != nil {
		p.OldID = p.Old.ID.String()
	}
	if p.New != nil {
		p.NewID = p.New.ID.String()
	}
	return json.Marshal(p)
}

// diffChanges compares two trees (zero ID: empty) and pairs deletions with
// additions of the same content and mode as renames.
func diffChanges(ctx context.Context, g dag.Getter, a, b dag.ID) ([]Change, error) {
	var out []Change
	err := dag.DiffTrees(ctx, g, a, b, func(p string, x, y *dag.TreeEntry) error {
		out = append(out, changeOf(p, x, y))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pairRenames(out), nil
}

// changeOf classifies one file-level difference reported by dag.DiffTrees.
func changeOf(p string, x, y *dag.TreeEntry) Change {
	c := Change{Path: p, Old: x, New: y}
	switch {
	case x == nil:
		c.Kind = Added
	case y == nil:
		c.Kind = Deleted
	default:
		c.Kind = Modified
	}
	return c
}

// pairRenames pairs deletions with additions of the same content and mode
// as renames and fills in the sizes, in place: a first commit of 200,000
// files has no deletions, and nothing to copy.
func pairRenames(cs []Change) []Change {
	type key struct {
		id   dag.ID
		mode dag.Mode
	}
	var deleted map[key][]int
	for i, c := range cs {
		if c.Kind == Deleted && c.Old.Size > 0 {
			if deleted == nil {
				deleted = map[key][]int{}
			}
			k := key{c.Old.ID, c.Old.Mode}
			deleted[k] = append(deleted[k], i)
		}
	}
	var drop map[int]bool
	for i := range cs {
		c := &cs[i]
		if c.Kind != Added || deleted == nil {
			continue
		}
		k := key{c.New.ID, c.New.Mode}
		if idx := deleted[k]; len(idx) > 0 {
			j := idx[0]
			deleted[k] = idx[1:]
			c.Kind, c.From, c.Old = Renamed, cs[j].Path, cs[j].Old
			if drop == nil {
				drop = map[int]bool{}
			}
			drop[j] = true
		}
	}
	out := cs[:0]
	for i, c := range cs {
		if drop[i] {
			continue
		}
		if c.Old != nil {
			c.OldSize = c.Old.Size
		}
		if c.New != nil {
			c.NewSize = c.New.Size
		}
		out = append(out, c)
	}
	clear(cs[len(out):])
	if !sort.SliceIsSorted(out, func(i, j int) bool { return out[i].Path < out[j].Path }) {
		sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	}
	return out
}
