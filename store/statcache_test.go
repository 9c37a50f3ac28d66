package store

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/dxdata/dx/dag"
)

func TestLookupStats(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	// Names chosen so that bytewise order differs from directory order
	// ("a.b" sorts between "a" and "a/…").
	cached := []string{"a", "a.b", "a/b", "a/c", "b", "z"}
	for i := 0; i < 100; i++ {
		cached = append(cached, fmt.Sprintf("m/%03d", i))
	}
	set := map[string]StatEntry{}
	for i, p := range cached {
		set[p] = StatEntry{Size: int64(i), File: dag.Hash(dag.KindChunk, []byte(p))}
	}
	if err := s.UpdateStatCache(ctx, set, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		paths []string
	}{
		{"none", nil},
		{"all", cached},
		{"absent only", []string{"0", "a/a", "m/0005", "zz"}},
		{"mixed", []string{"0", "a", "a-x", "a.b", "a/b", "a/bb", "m/050", "m/051", "m/099", "y", "z", "zz"}},
		{"sparse (seeks)", []string{"a", "m/000", "m/040", "m/098", "z"}},
		{"dense then gap", []string{"m/000", "m/001", "m/002", "m/090"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			paths := slices.Clone(tc.paths)
			slices.Sort(paths)
			got := map[string]StatEntry{}
			err := s.LookupStats(ctx, paths, func(i int, e StatEntry) {
				if _, dup := got[paths[i]]; dup {
					t.Errorf("%s reported twice", paths[i])
				}
				got[paths[i]] = e
			})
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			for _, p := range paths {
				e, ok := set[p]
				if !ok {
					if _, bad := got[p]; bad {
						t.Errorf("%s: found but never cached", p)
					}
					continue
				}
				want++
				if g, ok := got[p]; !ok || g.Size != e.Size || g.File != e.File {
					t.Errorf("%s: got %+v (found %v), want %+v", p, g, ok, e)
				}
			}
			if len(got) != want {
				t.Errorf("found %d entries, want %d", len(got), want)
			}
		})
	}
}

// BenchmarkLookupStats looks up every path of a 20,000-file worktree, as
// status and commit do.
func BenchmarkLookupStats(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	paths := make([]string, 20000)
	set := map[string]StatEntry{}
	for i := range paths {
		paths[i] = fmt.Sprintf("d%02d/f%05d.csv", i%50, i)
		set[paths[i]] = StatEntry{Size: int64(i), MtimeNs: 1, File: dag.Hash(dag.KindFile, []byte(paths[i]))}
	}
	slices.Sort(paths)
	if err := s.UpdateStatCache(ctx, set, nil); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		found := 0
		if err := s.LookupStats(ctx, paths, func(int, StatEntry) { found++ }); err != nil || found != len(paths) {
			b.Fatal(found, err)
		}
	}
}
