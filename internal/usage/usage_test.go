package usage

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/dxdata/dx/dag"
)

type mapGraph struct {
	links map[dag.ID][]dag.ID
	size  map[dag.ID]int64
}

func (g mapGraph) Object(_ context.Context, id dag.ID) ([]dag.ID, int64, bool, error) {
	s, ok := g.size[id]
	return g.links[id], s, ok, nil
}

// TestAccountAgainstSets: random DAGs and refs; each row's bytes,
// exclusive and shared equal sums over closures computed as plain sets.
func TestAccountAgainstSets(t *testing.T) {
	for seed := range uint64(50) {
		r := rand.New(rand.NewPCG(seed, 1))
		n := 20 + r.IntN(80)
		g := mapGraph{links: map[dag.ID][]dag.ID{}, size: map[dag.ID]int64{}}
		ids := make([]dag.ID, n)
		for i := range ids {
			ids[i] = dag.ID{byte(i), byte(i >> 8), 1}
			g.size[ids[i]] = int64(1 + r.IntN(1000))
			for range r.IntN(4) { // objects name only older ones: a DAG
				if i > 0 {
					g.links[ids[i]] = append(g.links[ids[i]], ids[r.IntN(i)])
				}
			}
		}
		var refs []Ref
		for k := range 1 + r.IntN(5) {
			refs = append(refs, Ref{Name: string(rune('a' + k)), ID: ids[r.IntN(n)]})
		}
		closure := func(root dag.ID) map[dag.ID]bool {
			seen := map[dag.ID]bool{}
			var walk func(dag.ID)
			walk = func(id dag.ID) {
				if !seen[id] {
					seen[id] = true
					for _, l := range g.links[id] {
						walk(l)
					}
				}
			}
			walk(root)
			return seen
		}
		sets := map[string]map[dag.ID]bool{}
		for _, rf := range refs {
			sets[rf.Name] = closure(rf.ID)
		}
		rep, err := Account(context.Background(), g, refs, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rep.Rows {
			var bytes, excl int64
			for id := range sets[row.Name] {
				bytes += g.size[id]
				alone := true
				for other, s := range sets {
					if other != row.Name && s[id] {
						alone = false
					}
				}
				if alone {
					excl += g.size[id]
				}
			}
			if row.Bytes != bytes || row.Exclusive != excl || row.Shared != bytes-excl || row.Objects != len(sets[row.Name]) {
				t.Fatalf("seed %d, %s: %+v, want bytes %d exclusive %d", seed, row.Name, row, bytes, excl)
			}
		}
	}
}

func TestModelGroup(t *testing.T) {
	for in, want := range map[string]string{
		"refs/models/churn": "model churn", "refs/stages/churn/production": "model churn", "refs/heads/main": "refs/heads/main",
	} {
		if got := ModelGroup(in); got != want {
			t.Errorf("ModelGroup(%q) = %q, want %q", in, got, want)
		}
	}
}
