package gc

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/storetest"
	"github.com/dxdata/dx/remote"
)

// TestParseAge: days, and Go's units.
func TestParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "1.5d": 36 * time.Hour, "36h": 36 * time.Hour, "90m": 90 * time.Minute} {
		if got, err := ParseAge(in); err != nil || got != want {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "-1d", "soon", "-3h"} {
		if _, err := ParseAge(in); err == nil {
			t.Errorf("%q parsed", in)
		}
	}
}

// depths is the oracle of --keep-last: each commit's shortest distance
// from tip along parents (the tip is 1), by relaxing every edge until
// nothing changes.
func depths(parents map[dag.ID][]dag.ID, tip dag.ID) map[dag.ID]int {
	d := map[dag.ID]int{tip: 1}
	for changed := true; changed; {
		changed = false
		for c, ps := range parents {
			dc, ok := d[c]
			if !ok {
				continue
			}
			for _, p := range ps {
				if dp, ok := d[p]; !ok || dc+1 < dp {
					d[p] = dc + 1
					changed = true
				}
			}
		}
	}
	return d
}

// TestKeepLastProperty: random histories of three branches with merges,
// each commit pushed on its own; gc with --keep-last N run twice past the
// grace. Every commit within N of a branch's tip (the oracle) still
// fetches from the remote with all its data and its history down to the
// cut, the shallow list names only commits kept, every commit on the
// remote whose parent is gone is on the list, and the commits past the
// policy are gone.
func TestKeepLastProperty(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(seed, 7))
			f := newFixture(t)
			keep := 2 + rng.IntN(3)
			parents := map[dag.ID][]dag.ID{}
			tips := map[string]dag.ID{}
			gen := map[dag.ID]uint64{}
			branches := []string{"a", "b", "c"}
			for i := range 12 + rng.IntN(8) {
				b := branches[rng.IntN(len(branches))]
				var ps []dag.ID
				if tip, ok := tips[b]; ok {
					ps = append(ps, tip)
				}
				if o := tips[branches[rng.IntN(len(branches))]]; rng.IntN(4) == 0 && !o.IsZero() && (len(ps) == 0 || o != ps[0]) {
					ps = append(ps, o)
				}
				g := uint64(1)
				for _, p := range ps {
					g = max(g, gen[p]+1)
				}
				tree := randomTree(t, f.st, seed*1000+uint64(i), 1+rng.IntN(2))
				id := storetest.Commit(t, f.st, dag.Commit{Tree: tree, Parents: ps, Generation: g, Message: fmt.Sprint(i)})
				parents[id], gen[id], tips[b] = ps, g, id
				f.mustPush(nil, b, id)
			}
			// The oracle's kept commits: within keep of a tip.
			want := map[dag.ID]bool{}
			for _, tip := range tips {
				for c, d := range depths(parents, tip) {
					if d <= keep {
						want[c] = true
					}
				}
			}
			sleepGrace()
			for range 2 {
				if _, err := Run(ctx, f.be, Options{Prune: true, Grace: grace, Keep: Keep{Last: keep}}); err != nil {
					t.Fatal(err)
				}
				sleepGrace()
			}
			ix, err := remote.LoadIndex(ctx, f.be, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			sh, err := remote.ReadShallow(ctx, f.be)
			if err != nil {
				t.Fatal(err)
			}
			for c := range want {
				if err := f.clone(c); err != nil {
					t.Fatalf("kept commit %s (keep %d): %v", c.Short(), keep, err)
				}
			}
			gone := 0
			for c, ps := range parents {
				if !ix.Has(c) {
					gone++
					if want[c] {
						t.Fatalf("kept commit %s is gone", c.Short())
					}
					continue
				}
				for _, p := range ps {
					if !ix.Has(p) && !sh.IDs[c] {
						t.Fatalf("commit %s names a missing parent and is not shallow", c.Short())
					}
				}
			}
			for c := range sh.IDs {
				if !want[c] {
					t.Fatalf("shallow commit %s is not kept by the policy", c.Short())
				}
			}
			// Each commit came in its own packs, with its own tree: all
			// those past the policy go.
			if gone != len(parents)-len(want) {
				t.Fatalf("%d of the %d commits past the policy went", gone, len(parents)-len(want))
			}
			t.Logf("keep %d: %d commits, %d kept by the policy, %d gone, %d shallow", keep, len(parents), len(want), gone, len(sh.IDs))
		})
	}
}
