package merge_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/merge"
)

type memObjects map[dag.ID][]byte

func (m memObjects) Get(_ context.Context, k dag.Kind, id dag.ID) ([]byte, error) {
	b, ok := m[id]
	if !ok {
		return nil, fmt.Errorf("object %s: %w", id.Short(), dag.ErrNotFound)
	}
	return b, nil
}

// graph builds commits by name: parents given by name.
type graph struct {
	t    *testing.T
	objs memObjects
	ids  map[string]dag.ID
}

func (g *graph) commit(name string, parents ...string) dag.ID {
	c := &dag.Commit{Author: "t", Message: name, Time: time.Unix(1, 0).UTC(), Generation: 1}
	for _, p := range parents {
		pid := g.ids[p]
		pc, err := dag.LoadCommit(context.Background(), g.objs, pid)
		if err != nil {
			g.t.Fatal(err)
		}
		c.Parents = append(c.Parents, pid)
		c.Generation = max(c.Generation, pc.Generation+1)
	}
	b, err := c.Encode()
	if err != nil {
		g.t.Fatal(err)
	}
	id := dag.Hash(dag.KindCommit, b)
	g.objs[id] = b
	g.ids[name] = id
	return id
}

func TestBase(t *testing.T) {
	g := &graph{t: t, objs: memObjects{}, ids: map[string]dag.ID{}}
	//   r - a1 - a2 - a3          (main)
	//        \         \
	//         b1 - b2 - m - b3    (feature; m merges a3)
	//   x                         (unrelated)
	g.commit("r")
	g.commit("a1", "r")
	g.commit("a2", "a1")
	g.commit("a3", "a2")
	g.commit("b1", "a1")
	g.commit("b2", "b1")
	g.commit("m", "b2", "a3")
	g.commit("b3", "m")
	g.commit("a4", "a3")
	g.commit("x")
	tests := []struct{ a, b, want string }{
		{"a2", "b2", "a1"},
		{"b2", "a2", "a1"},
		{"a3", "a3", "a3"},
		{"a1", "b2", "a1"}, // ancestor
		{"b3", "a4", "a3"}, // after a merge: the merged-in commit
		{"b3", "a3", "a3"},
		{"x", "a2", ""}, // unrelated
	}
	for _, tc := range tests {
		got, err := merge.Base(context.Background(), g.objs, g.ids[tc.a], g.ids[tc.b])
		if err != nil {
			t.Fatal(err)
		}
		if got != g.ids[tc.want] {
			name := "?"
			for n, id := range g.ids {
				if id == got {
					name = n
				}
			}
			t.Errorf("Base(%s, %s) = %s, want %s", tc.a, tc.b, name, tc.want)
		}
	}
}
