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
	// exact: count every value and every lack of a kind, however many
	// (the few rows a version changed: see Profile.Apply).
	exact bool
	// open are the kinds whose Lacking count is below lackCounted: values
	// are read in them too.
	open Kinds
	// sum and sq sum the values, and their squares, while the column's
	// Kinds has KindFloat; floats says they have been added to.
	sum, sq wideAcc
	floats  bool
	// regs are, past them, the HyperLogLog registers values set (set
	// marks which, a bit each).
	regs *[1 << hllPrecision]uint8
	set  *[1 << hllPrecision / 64]uint64
}

// lackCounted is how many values lacking a kind a span counts: past it
// the span reads no more values in that kind, and Lacking is a lower
// bound. Taking rows out of a profile needs to know only that some value
// still lacks the kind.
const lackCounted = 4

func newAcc(name string) *acc {
	return &acc{c: Column{Name: name, Kinds: allKinds}, idx: make(map[uint64]int32), open: allKinds}
}

// reset readies a for another span's rows, keeping its memory.
func (a *acc) reset() {
	a.c = Column{Name: a.c.Name, Kinds: allKinds}
	a.min, a.max = a.min[:0], a.max[:0]
	a.open = allKinds
	if a.floats {
		a.sum.reset()
		a.sq.reset()
		a.floats = false
	}
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
	t := &c.Ties
	if first {
		c.LenMin, c.LenMax = n, n
		a.min, a.max = append(a.min[:0], v...), append(a.max[:0], v...)
		t[tieLenMin], t[tieLenMax], t[tieStrMin], t[tieStrMax] = 1, 1, 1, 1
	} else {
		least(&c.LenMin, &t[tieLenMin], n, 1)
		greatest(&c.LenMax, &t[tieLenMax], n, 1)
		if d := bytes.Compare(v, a.min); d < 0 {
			a.min, t[tieStrMin] = append(a.min[:0], v...), 1
		} else {
			if d == 0 {
				t[tieStrMin]++
			}
			if d := bytes.Compare(v, a.max); d > 0 {
				a.max, t[tieStrMax] = append(a.max[:0], v...), 1
			} else if d == 0 {
				t[tieStrMax]++
			}
		}
	}
	c.LenSum += n
	a.count(v)
	read := (c.Kinds | a.open) & allow
	if read == 0 {
		c.Kinds = 0
		a.lack(a.open)
		return
	}
	p := classify(v, read)
	a.lack(a.open &^ p.kinds)
	if c.Kinds&KindFloat != 0 && p.kinds&KindFloat == 0 {
		c.sketch = nil
	}
	had := c.Kinds
	c.Kinds &= p.kinds
	if c.Kinds&KindInt != 0 {
		if first {
			c.IntMin, c.IntMax, t[tieIntMin], t[tieIntMax] = p.i, p.i, 1, 1
		} else {
			least(&c.IntMin, &t[tieIntMin], p.i, 1)
			greatest(&c.IntMax, &t[tieIntMax], p.i, 1)
		}
		var carry uint64
		c.SumLo, carry = bits.Add64(c.SumLo, uint64(p.i), 0)
		c.SumHi += p.i>>63 + int64(carry)
	}
	if c.Kinds&KindFloat != 0 {
		x := p.f
		if x == 0 {
			x = 0 // −0 is 0: its ties are
		}
		if first {
			c.FloatMin, c.FloatMax, t[tieFloatMin], t[tieFloatMax] = x, x, 1, 1
			c.sketch = newSketch()
		} else {
			least(&c.FloatMin, &t[tieFloatMin], x, 1)
			greatest(&c.FloatMax, &t[tieFloatMax], x, 1)
		}
		a.sum.addFloat(x)
		a.sq.addSquare(x)
		a.floats = true
		_ = c.sketch.Add(x) // finite
	} else if had&KindFloat != 0 && a.floats {
		a.sum.reset()
		a.sq.reset()
		a.floats = false
	}
	if c.Kinds&KindTimestamp != 0 {
		switch {
		case first:
			c.TimeMin, c.TimeMax, t[tieTimeMin], t[tieTimeMax] = p.t, p.t, 1, 1
		default:
			switch {
			case p.t.Before(c.TimeMin):
				c.TimeMin, t[tieTimeMin] = p.t, 1
			case p.t == c.TimeMin:
				t[tieTimeMin]++
			}
			switch {
			case c.TimeMax.Before(p.t):
				c.TimeMax, t[tieTimeMax] = p.t, 1
			case p.t == c.TimeMax:
				t[tieTimeMax]++
			}
		}
	}
}

// lack counts a value without kinds ks (of those still counted).
func (a *acc) lack(ks Kinds) {
	for ; ks != 0; ks &= ks - 1 {
		k := bits.TrailingZeros8(uint8(ks))
		if a.c.Lacking[k]++; a.c.Lacking[k] == lackCounted && !a.exact {
			a.open &^= 1 << k
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
	if !ok && (len(a.cnt) < SpanValues || a.exact) {
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
	if c.Kinds&KindFloat != 0 && a.floats {
		c.sum, c.sq = a.sum.wide(), a.sq.wide()
	}
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
