package merge

import (
	"context"
	"slices"
	"sort"

	"github.com/dxdata/dx/dag"
)

// A merge with key ranges. Where theirs changed a run of chunks that ours
// kept, and no key in that run (before or after the change) is in the key
// range of any run ours changed, no key can have been changed by both: the
// run goes into the merged file as it is, unread ("blind"). Only theirs'
// runs whose ranges meet a run of ours are diffed, and then only ours'
// runs holding a key those changed (or where their changes are written
// in). Over a table kept sorted by its key, scattered changes then cost
// the chunks where both sides changed nearby rows, not every chunk either
// side changed. (A range must hold every key of its chunk's rows: a wider
// one costs reads, never correctness.)

// plan is the units a diff of a and b starts with, found without reading.
func plan(a, b Source, o DiffOptions) *differ {
	d := &differ{opts: o}
	d.sides[0], d.sides[1] = newSide(a), newSide(b)
	d.match()
	d.widen()
	return d
}

// unitRanges returns the key range of each unit of d (the union of its
// chunks' ranges on both sides); ok[k] is false where some chunk's is not
// known.
func unitRanges(ctx context.Context, d *differ, units []*unit, h Header) ([]dag.KeyRange, []bool, error) {
	var got [2]map[int]dag.KeyRange
	for k, s := range d.sides {
		kr, isKR := s.src.(KeyRanger)
		if !isKR {
			return nil, make([]bool, len(units)), nil
		}
		var idx []int
		for _, u := range units {
			if r := u.r[k]; r != nil {
				for i := r.from; i < r.to; i++ {
					idx = append(idx, i)
				}
			}
		}
		out, ok, err := kr.KeyRanges(ctx, h, idx)
		if err != nil {
			return nil, nil, err
		}
		got[k] = make(map[int]dag.KeyRange, len(idx))
		for j, i := range idx {
			if ok[j] {
				got[k][i] = out[j]
			}
		}
	}
	ranges, known := make([]dag.KeyRange, len(units)), make([]bool, len(units))
	for ui, u := range units {
		first, ok := true, true
		for k, r := range u.r {
			if r == nil {
				continue
			}
			for i := r.from; ok && i < r.to; i++ {
				var c dag.KeyRange
				if c, ok = got[k][i]; ok {
					if first {
						ranges[ui], first = c, false
					} else {
						ranges[ui] = ranges[ui].Union(c)
					}
				}
			}
		}
		known[ui] = ok && !first
	}
	return ranges, known, nil
}

// rangeSet answers whether a key range meets any of a set.
type rangeSet struct {
	los   []string // sorted
	maxHi []string // maxHi[i]: the greatest Hi of the ranges los[:i+1] start
}

func newRangeSet(rs []dag.KeyRange) *rangeSet {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b dag.KeyRange) int { return dag.CompareKeys(a.Lo, b.Lo) })
	s := &rangeSet{}
	for i, r := range rs {
		s.los = append(s.los, r.Lo)
		if i == 0 || dag.CompareKeys(r.Hi, s.maxHi[i-1]) > 0 {
			s.maxHi = append(s.maxHi, r.Hi)
		} else {
			s.maxHi = append(s.maxHi, s.maxHi[i-1])
		}
	}
	return s
}

func (s *rangeSet) meets(r dag.KeyRange) bool {
	n := sort.Search(len(s.los), func(i int) bool { return dag.CompareKeys(s.los[i], r.Hi) > 0 })
	return n > 0 && dag.CompareKeys(s.maxHi[n-1], r.Lo) >= 0
}

// rangedDiffs diffs base against each side where the key ranges say it
// matters (see above) and returns the base runs of theirs' units taken
// blind; nil when ranges do not help (not known everywhere, headers not
// all the same, or no run to take blind): the caller diffs as usual.
func rangedDiffs(ctx context.Context, in mergeInput) (oursDiff, theirsDiff *tableDiff, blind map[span]bool, err error) {
	var h Header
	for i, src := range []Source{in.base, in.ours, in.theirs} {
		if _, ok := src.(KeyRanger); !ok || len(src.Chunks()) == 0 {
			return nil, nil, nil, nil
		}
		first, err := src.AppendChunk(ctx, 0, nil)
		if err != nil {
			return nil, nil, nil, nil // the diffs will say
		}
		hi, _, err := in.table.Header(first, len(src.Chunks()) == 1)
		if err != nil || (i > 0 && !slices.Equal(hi.Cols, h.Cols)) {
			return nil, nil, nil, nil
		}
		h = hi
	}
	oursPlan, theirsPlan := plan(in.base, in.ours, in.opts), plan(in.base, in.theirs, in.opts)
	oursUnits, theirsUnits := oursPlan.units(), theirsPlan.units()
	// Both sides' ranges, even when some of ours' are not known: a source
	// may learn the missing ones as they are read (see KeyRanger).
	oursRanges, oursKnown, err := unitRanges(ctx, oursPlan, oursUnits, h)
	if err != nil {
		return nil, nil, nil, err
	}
	theirsRanges, theirsKnown, err := unitRanges(ctx, theirsPlan, theirsUnits, h)
	if err != nil || slices.Contains(oursKnown, false) {
		return nil, nil, nil, err
	}
	ourSet := newRangeSet(oursRanges)
	blind = map[span]bool{}
	touched := make([]bool, len(theirsPlan.sides[0].chunks)) // base chunks in a diffed run of theirs
	for ui, u := range theirsUnits {
		if _, ok := takeable(oursPlan.sides[0], theirsPlan.sides[1], u); ok && theirsKnown[ui] && !ourSet.meets(theirsRanges[ui]) {
			blind[*u.r[0]] = true
			continue
		}
		if r := u.r[0]; r != nil {
			for i := r.from; i < r.to; i++ {
				touched[i] = true
			}
		}
	}
	if len(blind) == 0 {
		return nil, nil, nil, nil
	}
	if theirsDiff, err = diffRows(ctx, in.table, in.base, in.theirs, in.opts, func(from, to int) bool { return !blind[span{from, to}] }); err != nil {
		return nil, nil, nil, err
	}
	// Ours is diffed where theirs' diff found a key changed (a key ours
	// changed too is in one of its runs), and where the changes theirs'
	// diff found are written into ours' chunks.
	keys := make([]string, 0, 2*len(theirsDiff.Changes))
	for _, c := range theirsDiff.Changes {
		keys = append(keys, c.Key)
	}
	slices.SortFunc(keys, dag.CompareKeys)
	oursRange := make(map[span]dag.KeyRange, len(oursUnits))
	for ui, u := range oursUnits {
		if u.r[0] != nil {
			oursRange[*u.r[0]] = oursRanges[ui]
		}
	}
	oursDiff, err = diffRows(ctx, in.table, in.base, in.ours, in.opts, func(from, to int) bool {
		r, ok := oursRange[span{from, to}]
		if !ok || slices.Contains(touched[from:to], true) {
			return true
		}
		i, _ := slices.BinarySearchFunc(keys, r.Lo, dag.CompareKeys)
		return i < len(keys) && dag.CompareKeys(keys[i], r.Hi) <= 0
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return oursDiff, theirsDiff, blind, nil
}

// KeyRanger is a Source that knows the key ranges of some of its chunks.
type KeyRanger interface {
	// KeyRanges returns the key range of each chunk idx[k] of the file,
	// whose header is h, in out[k], and ok[k] false where it is not known
	// (the source may then learn it if the chunk is read).
	KeyRanges(ctx context.Context, h Header, idx []int) (out []dag.KeyRange, ok []bool, err error)
}
