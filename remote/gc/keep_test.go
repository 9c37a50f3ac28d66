package gc

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
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

// recording records the writes and deletions a collector makes, in
// order, and fails the write of one key (a collector killed there).
type recording struct {
	remote.Backend
	ops  *[]string
	fail string
}

func (b recording) Swap(ctx context.Context, key, oldTag string, data []byte) (string, error) {
	if key == b.fail {
		return "", errors.New("killed")
	}
	*b.ops = append(*b.ops, "swap "+key)
	return b.Backend.Swap(ctx, key, oldTag, data)
}

func (b recording) Delete(ctx context.Context, key string) error {
	*b.ops = append(*b.ops, "delete "+key)
	return b.Backend.Delete(ctx, key)
}

// TestShallowListedFirst: the shallow list is written before a run
// condemns (writes gc/state) and before it removes anything; a run
// killed between the two leaves the remote whole with the list written,
// and the next runs finish.
func TestShallowListedFirst(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	var ids []dag.ID
	var parents []dag.ID
	for i := range 4 {
		id := storetest.Commit(t, f.st, dag.Commit{Tree: randomTree(t, f.st, uint64(30+i), 2), Parents: parents, Generation: uint64(i + 1)})
		f.mustPush(nil, "main", id)
		ids, parents = append(ids, id), []dag.ID{id}
	}
	sleepGrace()
	var ops []string
	keep := Options{Prune: true, Grace: grace, Keep: Keep{Last: 2}}
	// Killed before the state: nothing condemned, the list written.
	if _, err := Run(ctx, recording{f.be, &ops, remote.GCStateKey}, keep); err == nil {
		t.Fatal("the killed run succeeded")
	}
	if !slices.Contains(ops, "swap "+remote.ShallowKey) {
		t.Fatalf("the killed run did not list the cut: %v", ops)
	}
	sh, err := remote.ReadShallow(ctx, f.be)
	if err != nil || len(sh.IDs) != 1 || !sh.IDs[ids[2]] {
		t.Fatalf("shallow list %v %v, want %s", sh.IDs, err, ids[2].Short())
	}
	if err := f.clone(ids[3]); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		ops = ops[:0]
		rep, err := Run(ctx, recording{f.be, &ops, ""}, keep)
		if err != nil {
			t.Fatal(err)
		}
		first := -1
		for i, op := range ops {
			if first < 0 && (op == "swap "+remote.GCStateKey || strings.HasPrefix(op, "delete packs/") || strings.HasPrefix(op, "delete index/")) {
				first = i
			}
		}
		if rep.Condemned.Packs+rep.Removed.Packs == 0 || first < 0 || slices.Index(ops, "swap "+remote.ShallowKey) > first {
			t.Fatalf("%+v: %v", rep, ops)
		}
		sleepGrace()
	}
	// The second run removed the first two commits' packs; the list was
	// not written again (unchanged).
	if err := f.clone(ids[3]); err != nil {
		t.Fatal(err)
	}
	f.indexesNameOnlyPacks()
	ix, err := remote.LoadIndex(ctx, f.be, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if ix.Has(ids[0]) || ix.Has(ids[1]) || !ix.Has(ids[2]) {
		t.Fatal("the commits past the policy are still there, or a kept one went")
	}
}
