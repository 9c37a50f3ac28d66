package store

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestWillNeedHintsWhatIsNotReadInOrder: WillNeed hints each span of
// objects that does not follow the last span read from its pack, and no
// span that does: a pack read in order, alone or interleaved with
// another, costs one hint (its first span); scattered objects, one each;
// objects not yet in a pack, none.
func TestWillNeedHintsWhatIsNotReadInOrder(t *testing.T) {
	var packs []*os.File
	for _, name := range []string{"pack0", "pack1"} {
		f, err := os.Create(filepath.Join(t.TempDir(), name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		packs = append(packs, f)
	}
	type hint struct {
		pack   string
		off, n int64
	}
	loc := func(pack uint32, off uint64) objLoc { return objLoc{pack: pack, offset: off, stored: 100} }
	pending := objLoc{pack: pendingPack, stored: 100}
	cases := []struct {
		name    string
		locs    []objLoc
		batches []int // the ends of the batches WillNeed is called with, in order
		want    []hint
	}{
		{"one pack in order", []objLoc{loc(0, 0), loc(0, 100), loc(0, 200), loc(0, 300), loc(0, 400)}, []int{3, 5},
			[]hint{{"pack0", 0, 300}}},
		{"two packs interleaved, each in order", []objLoc{loc(0, 0), loc(1, 0), loc(0, 100), loc(1, 100), loc(0, 200), loc(1, 200)}, []int{4, 6},
			[]hint{{"pack0", 0, 200}, {"pack1", 0, 200}}},
		{"scattered", []objLoc{loc(0, 0), loc(0, 1000), loc(1, 500), loc(0, 5000), loc(0, 5100), loc(0, 9000)}, []int{4, 6},
			[]hint{{"pack0", 0, 100}, {"pack0", 1000, 100}, {"pack1", 500, 100}, {"pack0", 5000, 100}, {"pack0", 9000, 100}}},
		{"pending objects", []objLoc{pending, loc(0, 300), pending, loc(0, 400)}, []int{4},
			[]hint{{"pack0", 300, 200}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []hint
			l := &Located{locs: c.locs, packs: packs, hint: func(f *os.File, off, n int64) {
				got = append(got, hint{filepath.Base(f.Name()), off, n})
			}}
			from := 0
			for _, to := range c.batches {
				l.WillNeed(from, to)
				from = to
			}
			// (The order of the hints within a batch is free.)
			sortHints := func(h []hint) {
				slices.SortFunc(h, func(a, b hint) int { return cmp.Or(cmp.Compare(a.pack, b.pack), cmp.Compare(a.off, b.off)) })
			}
			sortHints(got)
			want := slices.Clone(c.want)
			sortHints(want)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("hints %v, want %v", got, want)
			}
		})
	}
}
