package profile

import (
	"math/bits"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/DataDog/sketches-go/ddsketch/store"
)

// maxStale bounds, as a share of a column's values, the values taken out
// of a profile whose registers still count them (see Column.Stale): its
// distinct estimate is then at most that much too high, on top of the
// HyperLogLog's own error.
const maxStale = 0.01

// Apply makes p, a table version's profile (merged, not finished), the
// profile of the version that adds the rows added profiles and removes
// the rows removed profiles (removed an exact profile: see
// newExactProfiler). Every figure comes out as computing the new version
// from its rows gives it, but a column's distinct estimate and its top
// values where they are estimates (Over): its registers keep counting
// the values removed, at most maxStale of them. It reports false, p then
// of no use, where p's figures cannot say: every value equal to an
// extreme removed, a kind that no value may lack any more (whose figures
// p did not keep), a column left with no values, or more than maxStale
// stale values.
func (p *Profile) Apply(removed, added *Profile) bool {
	p.Merge(added)
	if removed.Rows > p.Rows {
		return false
	}
	p.Rows -= removed.Rows
	for _, r := range removed.Columns {
		if r.Values == 0 {
			continue
		}
		c := p.Column(r.Name)
		if c == nil || r.Over || !c.subtract(r) {
			return false
		}
	}
	return true
}

// subtract takes r's values (r an exact profile of some of c's rows) out
// of c; false: c's figures cannot say what is left (see Apply).
func (c *Column) subtract(r *Column) bool {
	c.flushSketch()
	if c.tails != nil || r.Values >= c.Values {
		return false
	}
	c.Values -= r.Values
	for k := range c.Lacking {
		c.Lacking[k] -= r.Lacking[k]
		if c.Kinds&(1<<k) == 0 && c.Lacking[k] <= 0 {
			return false // every value may have kind k now
		}
	}
	t, rt := &c.Ties, &r.Ties
	if !untie(c.LenMin, &t[tieLenMin], r.LenMin, rt[tieLenMin]) ||
		!untie(c.LenMax, &t[tieLenMax], r.LenMax, rt[tieLenMax]) ||
		!untie(c.StrMin, &t[tieStrMin], r.StrMin, rt[tieStrMin]) ||
		!untie(c.StrMax, &t[tieStrMax], r.StrMax, rt[tieStrMax]) {
		return false
	}
	c.LenSum -= r.LenSum
	if c.Kinds&KindInt != 0 {
		if !untie(c.IntMin, &t[tieIntMin], r.IntMin, rt[tieIntMin]) ||
			!untie(c.IntMax, &t[tieIntMax], r.IntMax, rt[tieIntMax]) {
			return false
		}
		var borrow uint64
		c.SumLo, borrow = bits.Sub64(c.SumLo, r.SumLo, 0)
		c.SumHi -= r.SumHi + int64(borrow)
	}
	if c.Kinds&KindFloat != 0 {
		if !untie(c.FloatMin, &t[tieFloatMin], r.FloatMin, rt[tieFloatMin]) ||
			!untie(c.FloatMax, &t[tieFloatMax], r.FloatMax, rt[tieFloatMax]) {
			return false
		}
		c.sum.addWide(r.sum, true)
		c.sq.addWide(r.sq, true)
		if c.sketch != nil {
			if r.flushSketch(); r.sketch == nil || !c.takeSketch(r.sketch) {
				return false
			}
		}
	}
	if c.Kinds&KindTimestamp != 0 {
		if !untie(c.TimeMin, &t[tieTimeMin], r.TimeMin, rt[tieTimeMin]) ||
			!untie(c.TimeMax, &t[tieTimeMax], r.TimeMax, rt[tieTimeMax]) {
			return false
		}
	}
	for v, n := range r.counts {
		p, ok := c.counts[v]
		switch {
		case ok && *p > *n:
			*p -= *n
		case ok && (*p == *n || c.Over):
			delete(c.counts, v)
		case !c.Over:
			return false // not counted: not c's rows
		}
	}
	if c.regs != nil {
		c.Stale += r.Values
		if float64(c.Stale) > maxStale*float64(c.Values) {
			return false
		}
	}
	return true
}

// untie takes r's ties to an extreme out of c's: false if r's extreme
// is beyond c's (not c's values) or no value equal to c's is left.
func untie[T comparable](c T, cn *int64, r T, rn int64) bool {
	if r != c {
		return true // (r's values are c's: its extreme is within)
	}
	*cn -= rn
	return *cn > 0
}

// takeSketch takes the values of r (a sketch of some of them) out of
// c's sketch: false if a bin would go below zero.
func (c *Column) takeSketch(r *ddsketch.DDSketch) bool {
	type key struct{ side, index int }
	rest := map[key]float64{}
	sides := func(s *ddsketch.DDSketch) []store.Store {
		return []store.Store{s.GetPositiveValueStore(), s.GetNegativeValueStore()}
	}
	for side, st := range sides(c.sketch) {
		st.ForEach(func(index int, n float64) bool {
			rest[key{side, index}] += n
			return false
		})
	}
	for side, st := range sides(r) {
		st.ForEach(func(index int, n float64) bool {
			rest[key{side, index}] -= n
			return false
		})
	}
	zeros := c.sketch.GetZeroCount() - r.GetZeroCount()
	if zeros < 0 {
		return false
	}
	var b sketchBins
	b.zeros = uint64(zeros)
	for k, n := range rest {
		switch {
		case n < 0:
			return false
		case n > 0 && k.side == 0:
			b.pos.add(k.index, uint64(n))
		case n > 0:
			b.neg.add(k.index, uint64(n))
		}
	}
	c.sketch = newMergedSketch()
	b.into(c.sketch)
	return true
}
