package profile

import (
	"cmp"
	"math/bits"
	"slices"
	"strings"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/DataDog/sketches-go/ddsketch/mapping"
	"github.com/DataDog/sketches-go/ddsketch/store"
)

// SpanValues is how many distinct values of a column a span counts
// exactly: past it, the span keeps the counts of a few of its most
// frequent values only, its distinct values go to a HyperLogLog, and the
// file's top values are an estimate. A column with at most SpanValues
// distinct values in every span has exact value counts and an exact
// distinct count.
const SpanValues = 256

// overKept is how many of its most frequent values (counted twice or
// more) a span past SpanValues keeps the counts of. A column whose counts
// are estimates already takes as many from each span merged into it, so
// that merging the spans of a column of near-unique values costs no map
// growth.
const overKept = 8

// topValues keeps the overKept most frequent values offered that were
// counted twice or more, the most frequent first.
type topValues struct{ vs []valueN }

// valueN is a value and its count.
type valueN struct {
	v []byte
	n int64
}

func (t *topValues) offer(v []byte, n int64) {
	if n < 2 || len(t.vs) == overKept && n <= t.vs[overKept-1].n {
		return
	}
	j := len(t.vs)
	if j < overKept {
		t.vs = append(t.vs, valueN{})
	}
	for j = min(j, overKept-1); j > 0 && t.vs[j-1].n < n; j-- {
		t.vs[j] = t.vs[j-1]
	}
	t.vs[j] = valueN{v, n}
}

// exactValues bounds the distinct values a column's exact counts may hold
// as spans merge (memory); past it the column is counted as if a span had
// been Over: its distinct count is the HyperLogLog's, its top values an
// estimate.
const exactValues = 100_000

// keptValues is how many values' counts a finished file profile keeps
// (the most frequent): past it, the distinct count is the HyperLogLog's.
const keptValues = 1000

// Column is the profile of one column over some rows: exact figures,
// and sketches. Nulls (empty, JSON null, or a JSONL row without the
// column) are not counted here: they are the profile's rows less Values.
// Every figure can have rows taken out again (see Profile.Apply): the
// extremes keep how many values equal them, the kinds how many values
// lack each, and floats are summed exactly.
type Column struct {
	Name   string
	Values int64 // non-null values
	Kinds  Kinds // the kinds every value has
	// Lacking counts, by kind (kind 1<<k at k), the values without it:
	// at least so many (a span counts up to lackCounted), exactly when
	// a span's count is below that.
	Lacking [kindCount]int64
	// Lengths of the values' text, in bytes.
	LenMin, LenMax, LenSum int64
	// The least and greatest value's text, in byte order.
	StrMin, StrMax string
	// While Kinds has KindInt: the least, greatest and 128-bit sum.
	IntMin, IntMax int64
	SumHi          int64
	SumLo          uint64
	// While Kinds has KindFloat: the least and greatest, and the exact
	// sums of the values and of their squares (see wide.go).
	FloatMin, FloatMax float64
	sum, sq            wide
	// While Kinds has KindTimestamp: the earliest and latest.
	TimeMin, TimeMax Instant
	// Ties counts the values equal to each extreme (see the tie
	// constants).
	Ties [tieCount]int64
	// counts are values' counts: each value's exact count, of every
	// value, unless Over (some span had more than SpanValues distinct
	// values: counts holds lower bounds for some values) or Truncated
	// (counts holds the keptValues most frequent values, exactly).
	counts          counts
	Over, Truncated bool
	// Stale counts the values taken out of the profile since its
	// registers were made (see Profile.Apply): its distinct estimate may
	// count as many values too many.
	Stale int64
	// regs count distinct values when counts cannot (Over or Truncated).
	regs *registers
	// sketch holds the values as floats, while Kinds has KindFloat; bins
	// are those merged since, not yet in it (see flushSketch).
	sketch *ddsketch.DDSketch
	bins   *sketchBins
	// tails: spans whose counts are in their tail entries (see tail.go).
	tails *tails
}

// The extremes whose ties a Column counts, in Ties.
const (
	tieLenMin = iota
	tieLenMax
	tieStrMin
	tieStrMax
	tieIntMin
	tieIntMax
	tieFloatMin
	tieFloatMax
	tieTimeMin
	tieTimeMax
	tieCount
)

// Moments are the mean of a float column's values and the sum of their
// squared deviations from it, each the exact figure rounded once.
func (c *Column) Moments() (mean, m2 float64) { return moments(c.Values, &c.sum, &c.sq) }

// flushSketch puts the bins merged into c's sketch.
func (c *Column) flushSketch() {
	if c.bins == nil {
		return
	}
	if c.Kinds&KindFloat != 0 {
		if c.sketch == nil {
			c.sketch = newMergedSketch()
		}
		c.bins.into(c.sketch)
	}
	c.bins = nil
}

// newSketch is the quantile sketch of every profile: 1% relative
// accuracy.
func newSketch() *ddsketch.DDSketch {
	s, err := ddsketch.NewDefaultDDSketch(relativeAccuracy)
	if err != nil {
		panic(err) // a constant accuracy in range
	}
	return s
}

// newMergedSketch is the quantile sketch spans' sketches merge into: as
// newSketch's, but its bins in a dense array (a merge adds each bin of a
// span's at its index, where a paginated store buffers and sorts them).
func newMergedSketch() *ddsketch.DDSketch {
	m, err := mapping.NewDefaultMapping(relativeAccuracy)
	if err != nil {
		panic(err) // a constant accuracy in range
	}
	return ddsketch.NewDDSketch(m, store.NewDenseStore(), store.NewDenseStore())
}

// relativeAccuracy of the quantile sketches: a quantile is within 1% of
// the value at its rank.
const relativeAccuracy = 0.01

// merge adds o (the same column over other rows) to c.
func (c *Column) merge(o *Column) {
	if o.Values == 0 {
		return
	}
	c.mergeValues(o)
}

// mergeValues adds o's figures, counts and sketches to c's; o has
// values.
func (c *Column) mergeValues(o *Column) {
	c.flushSketch()
	o.flushSketch()
	c.mergeFigures(o)
	if c.Kinds&KindFloat == 0 {
		c.sketch = nil
	} else if o.sketch != nil {
		if c.sketch == nil {
			c.sketch = newMergedSketch()
		}
		_ = c.sketch.MergeWith(o.sketch) // the same mapping
	}
	if c.counts == nil {
		c.counts = make(counts, len(o.counts))
	}
	if c.Over && o.regs == nil {
		// Estimates already: o's counts go in as an Over span's would.
		var top topValues
		for v, n := range o.counts {
			top.offer(stringBytes(v), *n)
		}
		for _, t := range top.vs {
			c.counts.add(t.v, t.n)
		}
	} else {
		for v, n := range o.counts {
			c.counts.add(stringBytes(v), *n)
		}
	}
	defer c.prune()
	switch {
	case o.regs != nil:
		if c.regs == nil {
			c.regs = registersOf(c.counts)
		}
		c.regs.merge(o.regs)
	case c.regs != nil:
		for v := range o.counts {
			c.regs.add(hashValue(stringBytes(v)))
		}
	}
}

// mergeFigures adds o's figures (not its counts or sketches) to c's.
func (c *Column) mergeFigures(o *Column) {
	if c.Values == 0 {
		keep := *c
		*c = *o
		c.Name, c.counts, c.regs, c.sketch, c.bins, c.tails = keep.Name, keep.counts, keep.regs, keep.sketch, keep.bins, keep.tails
		c.sum, c.sq = wide{}, wide{}
		c.sum.addWide(o.sum, false)
		c.sq.addWide(o.sq, false)
		c.Stale += keep.Stale
		return
	}
	c.Kinds &= o.Kinds
	for k := range c.Lacking {
		c.Lacking[k] += o.Lacking[k]
	}
	t, ot := &c.Ties, &o.Ties
	least(&c.LenMin, &t[tieLenMin], o.LenMin, ot[tieLenMin])
	greatest(&c.LenMax, &t[tieLenMax], o.LenMax, ot[tieLenMax])
	c.LenSum += o.LenSum
	least(&c.StrMin, &t[tieStrMin], o.StrMin, ot[tieStrMin])
	greatest(&c.StrMax, &t[tieStrMax], o.StrMax, ot[tieStrMax])
	if c.Kinds&KindInt != 0 {
		least(&c.IntMin, &t[tieIntMin], o.IntMin, ot[tieIntMin])
		greatest(&c.IntMax, &t[tieIntMax], o.IntMax, ot[tieIntMax])
		var carry uint64
		c.SumLo, carry = bits.Add64(c.SumLo, o.SumLo, 0)
		c.SumHi += o.SumHi + int64(carry)
	}
	if c.Kinds&KindFloat != 0 {
		least(&c.FloatMin, &t[tieFloatMin], o.FloatMin, ot[tieFloatMin])
		greatest(&c.FloatMax, &t[tieFloatMax], o.FloatMax, ot[tieFloatMax])
		c.sum.addWide(o.sum, false)
		c.sq.addWide(o.sq, false)
	} else {
		c.sum, c.sq = wide{}, wide{}
	}
	if c.Kinds&KindTimestamp != 0 {
		switch {
		case o.TimeMin.Before(c.TimeMin):
			c.TimeMin, t[tieTimeMin] = o.TimeMin, ot[tieTimeMin]
		case o.TimeMin == c.TimeMin:
			t[tieTimeMin] += ot[tieTimeMin]
		}
		switch {
		case c.TimeMax.Before(o.TimeMax):
			c.TimeMax, t[tieTimeMax] = o.TimeMax, ot[tieTimeMax]
		case o.TimeMax == c.TimeMax:
			t[tieTimeMax] += ot[tieTimeMax]
		}
	}
	c.Values += o.Values
	c.Stale += o.Stale
	c.Over, c.Truncated = c.Over || o.Over, c.Truncated || o.Truncated
}

// least makes *a the lesser of *a and b, *an counting its ties.
func least[T cmp.Ordered](a *T, an *int64, b T, bn int64) {
	if b < *a {
		*a, *an = b, bn
	} else if b == *a {
		*an += bn
	}
}

// greatest makes *a the greater of *a and b, *an counting its ties.
func greatest[T cmp.Ordered](a *T, an *int64, b T, bn int64) {
	if b > *a {
		*a, *an = b, bn
	} else if b == *a {
		*an += bn
	}
}

// registersOf are the HyperLogLog registers of the values counted.
func registersOf(cs counts) *registers {
	r := &registers{}
	r.toDense()
	for v := range cs {
		r.add(hashValue(stringBytes(v)))
	}
	return r
}

// clone copies c deeply enough for merge to change the copy.
func (c *Column) clone() *Column {
	c.flushSketch()
	d := *c
	d.sum, d.sq = wide{}, wide{}
	d.sum.addWide(c.sum, false)
	d.sq.addWide(c.sq, false)
	d.counts = make(counts, len(c.counts))
	for v, n := range c.counts {
		d.counts[v] = new(*n)
	}
	if c.regs != nil {
		d.regs = c.regs.clone()
	}
	if c.sketch != nil {
		d.sketch = c.sketch.Copy()
	}
	return &d
}

// prune makes a column with more than exactValues counted an estimate,
// and bounds the counts of a column whose counts are estimates (Over):
// past 4×keptValues values it keeps the keptValues most frequent. Its
// registers count every value already.
func (c *Column) prune() {
	if !c.Over && len(c.counts) > exactValues {
		// Too many values to count each: estimates from here on.
		if c.regs == nil {
			c.regs = registersOf(c.counts)
		}
		c.Over = true
	}
	if !c.Over || len(c.counts) <= 4*keptValues {
		return
	}
	c.keepTop(keptValues)
}

// keepTop deletes the counts of all values but the k most frequent (in
// topCounts' order).
func (c *Column) keepTop(k int) {
	out := make([]ValueCount, 0, len(c.counts))
	for v, n := range c.counts {
		out = append(out, ValueCount{v, *n})
	}
	selectFirst(out, k, compareCounts)
	for _, vc := range out[k:] {
		delete(c.counts, vc.Value)
	}
}

// selectFirst moves the k least elements of s (by cmp, a strict order)
// to its front, in no order (Hoare's selection: linear on average, where
// a sort is not).
func selectFirst[T any](s []T, k int, cmp func(a, b T) int) {
	lo, hi := 0, len(s)-1
	for lo < hi && k > lo && k <= hi {
		p := s[lo+(hi-lo)/2]
		i, j := lo, hi
		for i <= j {
			for cmp(s[i], p) < 0 {
				i++
			}
			for cmp(s[j], p) > 0 {
				j--
			}
			if i <= j {
				s[i], s[j] = s[j], s[i]
				i, j = i+1, j-1
			}
		}
		// s[lo..j] ≤ p ≤ s[i..hi]
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return
		}
	}
}

// finish keeps the keptValues most frequent values' counts, counting the
// distinct values with the HyperLogLog past them: a whole file's column,
// which is merged no more.
func (c *Column) finish() {
	if len(c.counts) <= keptValues {
		return
	}
	if c.regs == nil {
		c.regs = registersOf(c.counts)
	}
	c.keepTop(keptValues)
	c.Truncated = true
}

// ValueCount is a value and how many rows hold it.
type ValueCount struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

// topCounts are the k most frequent values, the most frequent first (and
// in byte order among equals).
func topCounts(cs counts, k int) []ValueCount {
	out := make([]ValueCount, 0, len(cs))
	for v, n := range cs {
		out = append(out, ValueCount{v, *n})
	}
	slices.SortFunc(out, compareCounts)
	return out[:min(k, len(out))]
}

// compareCounts orders the most frequent first, and equals in byte
// order.
func compareCounts(a, b ValueCount) int {
	if a.Count != b.Count {
		return cmp.Compare(b.Count, a.Count)
	}
	return strings.Compare(a.Value, b.Value)
}

// Distinct is the column's distinct count, and whether it is exact.
func (c *Column) Distinct() (int64, bool) {
	if c.regs == nil {
		return int64(len(c.counts)), true
	}
	return int64(c.regs.estimate()), false
}

// counts are values' counts, each by pointer so that adding to a value
// already counted, from a transient []byte, allocates nothing.
type counts map[string]*int64

// add adds n to v's count.
func (cs counts) add(v []byte, n int64) {
	if p, ok := cs[bytesString(v)]; ok {
		*p += n
		return
	}
	cs[string(v)] = new(n)
}

// get is v's count (0: not counted).
func (cs counts) get(v string) int64 {
	if p, ok := cs[v]; ok {
		return *p
	}
	return 0
}
