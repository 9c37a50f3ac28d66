package profile

import (
	"bytes"
	"math/bits"
	"unsafe"
)

// acc accumulates one column over the rows of a span, without
// allocating per value once its distinct values are known.
type acc struct {
	c        Column
	min, max []byte
	idx      map[uint64]int32 // value's hash → its index in ends and cnt
	arena    []byte           // the values counted, one after the other
	ends     []int32          // where each ends in arena
	cnt      []int64
	over     bool // more than SpanValues distinct values
	// regs are, past them, the HyperLogLog registers values set (set
	// marks which, a bit each).
	regs *[1 << hllPrecision]uint8
	set  *[1 << hllPrecision / 64]uint64
}

func newAcc(name string) *acc {
	return &acc{c: Column{Name: name, Kinds: allKinds}, idx: make(map[uint64]int32)}
}

// reset readies a for another span's rows, keeping its memory.
func (a *acc) reset() {
	a.c = Column{Name: a.c.Name, Kinds: allKinds}
	a.min, a.max = a.min[:0], a.max[:0]
	clear(a.idx)
	a.arena, a.ends, a.cnt = a.arena[:0], a.ends[:0], a.cnt[:0]
	a.over = false
	if a.regs != nil {
		clear(a.regs[:])
		clear(a.set[:])
	}
}

// setRegister sets the register of hash h.
func (a *acc) setRegister(h uint64) {
	e := register(h)
	i := e >> 6
	a.regs[i] = max(a.regs[i], uint8(e&63))
	a.set[i/64] |= 1 << (i % 64)
}

// value is the i-th value counted.
func (a *acc) value(i int) []byte {
	start := int32(0)
	if i > 0 {
		start = a.ends[i-1]
	}
	return a.arena[start:a.ends[i]]
}

// add counts one non-null value; allow are the kinds it may have (a
// JSON string is no number).
func (a *acc) add(v []byte, allow Kinds) {
	c := &a.c
	c.Values++
	first := c.Values == 1
	n := int64(len(v))
	if first {
		c.LenMin, c.LenMax = n, n
		a.min, a.max = append(a.min[:0], v...), append(a.max[:0], v...)
	} else {
		c.LenMin, c.LenMax = min(c.LenMin, n), max(c.LenMax, n)
		if bytes.Compare(v, a.min) < 0 {
			a.min = append(a.min[:0], v...)
		} else if bytes.Compare(v, a.max) > 0 {
			a.max = append(a.max[:0], v...)
		}
	}
	c.LenSum += n
	a.count(v)
	want := c.Kinds & allow
	if want == 0 {
		c.Kinds = 0
		return
	}
	p := classify(v, want)
	if c.Kinds&KindFloat != 0 && p.kinds&KindFloat == 0 {
		c.sketch = nil
	}
	c.Kinds = p.kinds
	if p.kinds&KindInt != 0 {
		if first {
			c.IntMin, c.IntMax = p.i, p.i
		} else {
			c.IntMin, c.IntMax = min(c.IntMin, p.i), max(c.IntMax, p.i)
		}
		var carry uint64
		c.SumLo, carry = bits.Add64(c.SumLo, uint64(p.i), 0)
		c.SumHi += p.i>>63 + int64(carry)
	}
	if p.kinds&KindFloat != 0 {
		x := p.f
		if first {
			c.FloatMin, c.FloatMax = x, x
			c.sketch = newSketch()
		} else {
			c.FloatMin, c.FloatMax = min(c.FloatMin, x), max(c.FloatMax, x)
		}
		d := x - c.Mean
		c.Mean += d / float64(c.Values)
		c.M2 += d * (x - c.Mean)
		c.momentN = c.Values
		_ = c.sketch.Add(x) // finite
	}
	if p.kinds&KindTimestamp != 0 {
		if first {
			c.TimeMin, c.TimeMax = p.t, p.t
		} else {
			c.TimeMin, c.TimeMax = earliest(c.TimeMin, p.t), latest(c.TimeMax, p.t)
		}
	}
}

// count counts v exactly while the span has few distinct values, and
// into the HyperLogLog past them. Values are found by their hash and
// compared whole: two values of one hash (never seen) end the exact
// counts as too many values would.
func (a *acc) count(v []byte) {
	h := hashValue(v)
	if a.over {
		a.setRegister(h)
		return
	}
	i, ok := a.idx[h]
	if ok && bytes.Equal(a.value(int(i)), v) {
		a.cnt[i]++
		return
	}
	if !ok && len(a.cnt) < SpanValues {
		a.idx[h] = int32(len(a.cnt))
		a.arena = append(a.arena, v...)
		a.ends, a.cnt = append(a.ends, int32(len(a.arena))), append(a.cnt, 1)
		return
	}
	a.over = true
	if a.regs == nil {
		a.regs, a.set = new([1 << hllPrecision]uint8), new([1 << hllPrecision / 64]uint64)
	}
	for i := range a.cnt {
		a.setRegister(hashValue(a.value(i)))
	}
	a.setRegister(h)
}

// column is the span's profile of the column.
func (a *acc) column() *Column {
	c := a.c
	c.StrMin, c.StrMax = string(a.min), string(a.max)
	if !a.over {
		c.counts = make(counts, len(a.cnt))
		for i, n := range a.cnt {
			c.counts.add(a.value(i), n)
		}
		return &c
	}
	c.counts = make(counts, overKept)
	c.Over, c.regs = true, sparseRegisters(a.regs, a.set)
	// The overKept most frequent values counted twice or more.
	var top topValues
	for i, n := range a.cnt {
		top.offer(a.value(i), n)
	}
	for _, t := range top.vs {
		c.counts.add(t.v, t.n)
	}
	return &c
}

// stringBytes views s as bytes for a call that does not change or keep
// them.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
