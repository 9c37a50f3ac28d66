// Package usage accounts for what each ref holds of a store or a remote:
// the stored bytes of everything it reaches, those no other ref reaches
// (exclusive: what deleting it alone would free) and those it shares.
// It reads metadata only: sizes come from the indexes.
package usage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dxdata/dx/dag"
)

// Graph is a store or remote seen as objects, what each names and its
// stored size.
type Graph interface {
	// Object returns what id names and its stored size; ok is false
	// for an object the graph does not hold.
	Object(ctx context.Context, id dag.ID) (links []dag.ID, size int64, ok bool, err error)
}

// Ref is one ref to account for.
type Ref struct {
	Name string
	ID   dag.ID
}

// Row is one ref's account.
type Row struct {
	Name      string `json:"name"`
	Objects   int    `json:"objects"`
	Bytes     int64  `json:"bytes"`     // stored bytes of all it reaches
	Exclusive int64  `json:"exclusive"` // ... that no other ref reaches
	Shared    int64  `json:"shared"`    // ... that another ref reaches too
	Missing   int    `json:"missing,omitempty"`
}

// Report is every ref's account and the total.
type Report struct {
	Rows  []Row `json:"refs"`
	Total Row   `json:"total"` // each object once
}

// Account walks each ref's closure. Refs in groups (names with the same
// group key: a model's versions, a stage's moves) count as one row: pass
// group nil to keep each ref apart.
func Account(ctx context.Context, g Graph, refs []Ref, group func(name string) string) (*Report, error) {
	if group == nil {
		group = func(n string) string { return n }
	}
	objs := map[dag.ID]*obj{}
	byGroup := map[string][]Ref{}
	var names []string
	for _, r := range refs {
		k := group(r.Name)
		if _, ok := byGroup[k]; !ok {
			names = append(names, k)
		}
		byGroup[k] = append(byGroup[k], r)
	}
	slices.Sort(names)
	rows := map[string]*Row{}
	reached := map[string][]dag.ID{}
	for _, name := range names {
		row := &Row{Name: name}
		rows[name] = row
		seen := map[dag.ID]bool{}
		var queue []dag.ID
		for _, r := range byGroup[name] {
			queue = append(queue, r.ID)
		}
		for len(queue) > 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			id := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			if seen[id] {
				continue
			}
			seen[id] = true
			o, err := load(ctx, g, objs, id, name)
			if errors.Is(err, errMissing) {
				row.Missing++
				continue
			}
			if err != nil {
				return nil, err
			}
			if o == nil {
				continue
			}
			if o.owner != name {
				o.many = true
			}
			reached[name] = append(reached[name], id)
			queue = append(queue, o.links...)
		}
	}
	return tally(names, rows, reached, objs), nil
}

// obj is an object as accounted: its size, what it names, and who
// reached it.
type obj struct {
	size  int64
	links []dag.ID
	owner string // the first row that reached it
	many  bool   // another row reached it too
}

// errMissing: an object the graph does not hold.
var errMissing = errors.New("missing")

// load returns the object id as accounted, read from g the first time
// (owned by owner); nil for a parent cut below a shallow commit, and nil
// with errMissing for another object g does not hold.
func load(ctx context.Context, g Graph, objs map[dag.ID]*obj, id dag.ID, owner string) (*obj, error) {
	if o, ok := objs[id]; ok {
		return o, nil
	}
	ls, size, ok, err := g.Object(ctx, id)
	if errors.Is(err, dag.ErrShallow) {
		return nil, nil // a parent cut by a keep policy: not missing
	}
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", id.Short(), err)
	}
	if !ok {
		return nil, errMissing
	}
	o := &obj{size: size, links: ls, owner: owner}
	objs[id] = o
	return o, nil
}

// tally sums each row's objects (reached) into bytes, exclusive and
// shared, and the total (each object once).
func tally(names []string, rows map[string]*Row, reached map[string][]dag.ID, objs map[dag.ID]*obj) *Report {
	rep := &Report{Total: Row{Name: "total"}}
	for _, o := range objs {
		rep.Total.Objects++
		rep.Total.Bytes += o.size
		if o.many {
			rep.Total.Shared += o.size
		} else {
			rep.Total.Exclusive += o.size
		}
	}
	for _, name := range names {
		row := rows[name]
		for _, id := range reached[name] {
			o := objs[id]
			row.Objects++
			row.Bytes += o.size
			if o.many {
				row.Shared += o.size
			} else {
				row.Exclusive += o.size
			}
		}
		rep.Rows = append(rep.Rows, *row)
	}
	return rep
}

// ModelGroup groups a model's ref and its stages' under the model's name,
// and leaves other refs as they are.
func ModelGroup(name string) string {
	for _, p := range []string{"refs/models/", "refs/stages/"} {
		if rest, ok := strings.CutPrefix(name, p); ok {
			m, _, _ := strings.Cut(rest, "/")
			return "model " + m
		}
	}
	return name
}
