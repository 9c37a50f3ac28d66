package profile

import (
	"encoding/binary"
	"math"
	"math/big"
	"math/bits"
)

// A column's floats are summed exactly, and so are their squares: every
// float64, and every square of one, is a whole multiple of 2^−wideBias, so
// such sums add, merge and subtract without rounding, in any order. A
// column's mean and variance are then the same however its rows were
// grouped into spans, and a version's profile can be another's plus the
// rows added and minus the rows removed (see Profile.Apply).

// wideBias is the weight of a wide sum's least bit: 2^−wideBias is the
// least square of a float64 (2^−1074 squared).
const wideBias = 2148

// wideChunks is how many 32-bit chunks a sum spans: a square reaches
// bit 4196 above 2^−wideBias, and 2^63 of them 63 bits further.
const wideChunks = 136

// wide is an exact sum as a fixed-point integer: chunk i weighs
// 2^(32·(lo+i) − wideBias). Each chunk is an int64, of which a normal
// form uses the low 32 bits (the top chunk carries the sign), so that
// 2^31 chunks of other sums add into it before it must carry.
type wide struct {
	lo   int32
	c    []int64
	adds int32 // sums added since the last carry
}

// wideAcc sums floats, or their squares, one at a time: a span's column.
type wideAcc struct {
	c    [wideChunks]int64
	adds int32
}

// split is x as m·2^e (m < 2^53) and its sign.
func split(x float64) (m uint64, e int, neg bool) {
	b := math.Float64bits(x)
	exp := int(b >> 52 & 0x7ff)
	m = b & (1<<52 - 1)
	if exp == 0 {
		exp = 1
	} else {
		m |= 1 << 52
	}
	return m, exp - 1075, b>>63 == 1
}

// addFloat adds x (finite).
func (a *wideAcc) addFloat(x float64) {
	m, e, neg := split(x)
	a.add(0, m, e+wideBias, neg)
}

// addSquare adds x².
func (a *wideAcc) addSquare(x float64) {
	m, e, _ := split(x)
	hi, lo := bits.Mul64(m, m)
	a.add(hi, lo, 2*e+wideBias, false)
}

// add adds or subtracts hi·2^64+lo (under 2^106) at bit pos.
func (a *wideAcc) add(hi, lo uint64, pos int, neg bool) {
	if a.adds++; a.adds == 1<<30 {
		carry(a.c[:])
		a.adds = 0
	}
	i, s := pos>>5, uint(pos&31)
	w0, w1, w2 := lo<<s, hi<<s|lo>>(64-s), hi>>(64-s) // (a shift by 64 gives 0)
	c := a.c[i : i+5 : i+5]
	if neg {
		c[0] -= int64(w0 & math.MaxUint32)
		c[1] -= int64(w0 >> 32)
		c[2] -= int64(w1 & math.MaxUint32)
		c[3] -= int64(w1 >> 32)
		c[4] -= int64(w2)
		return
	}
	c[0] += int64(w0 & math.MaxUint32)
	c[1] += int64(w0 >> 32)
	c[2] += int64(w1 & math.MaxUint32)
	c[3] += int64(w1 >> 32)
	c[4] += int64(w2)
}

// reset zeroes the sum.
func (a *wideAcc) reset() { *a = wideAcc{} }

// wide is the sum in normal form.
func (a *wideAcc) wide() wide {
	lo, hi := 0, len(a.c)
	for lo < hi && a.c[lo] == 0 {
		lo++
	}
	for hi > lo && a.c[hi-1] == 0 {
		hi--
	}
	if lo == hi {
		return wide{}
	}
	w := wide{lo: int32(lo), c: append(make([]int64, 0, hi-lo+1), a.c[lo:hi]...)}
	w.normalize()
	return w
}

// carry moves each chunk's bits past its low 32 into the next, the last
// keeping the sign.
func carry(c []int64) {
	for i := 0; i < len(c)-1; i++ {
		k := c[i] >> 32
		c[i] -= k << 32
		c[i+1] += k
	}
}

// normalize puts w in normal form: every chunk but the top one in
// [0, 2^32), the top one in [−2^31, 2^31) and not zero, and no zero
// chunk at the bottom; a sum has one normal form.
func (w *wide) normalize() {
	w.adds = 0
	if len(w.c) == 0 {
		return
	}
	carry(w.c)
	for top := w.c[len(w.c)-1]; top < -1<<31 || top >= 1<<31; top = w.c[len(w.c)-1] {
		k := top >> 32
		w.c[len(w.c)-1] -= k << 32
		w.c = append(w.c, k)
	}
	for n := len(w.c); n > 1; n = len(w.c) {
		top, below := w.c[n-1], w.c[n-2]
		if top == 0 && below < 1<<31 {
			w.c = w.c[:n-1]
		} else if top == -1 && below >= 1<<31 {
			w.c[n-2] -= 1 << 32
			w.c = w.c[:n-1]
		} else {
			break
		}
	}
	n := 0
	for n < len(w.c) && w.c[n] == 0 {
		n++
	}
	if n == len(w.c) {
		*w = wide{}
		return
	}
	w.c, w.lo = w.c[n:], w.lo+int32(n)
}

// addWide adds o (negated when neg) to w.
func (w *wide) addWide(o wide, neg bool) {
	if len(o.c) == 0 {
		return
	}
	if len(w.c) == 0 {
		w.lo, w.c = o.lo, make([]int64, len(o.c), len(o.c)+1)
		copy(w.c, o.c)
		if neg {
			for i := range w.c {
				w.c[i] = -w.c[i]
			}
		}
		w.adds = o.adds + 1
		return
	}
	w.span(o.lo, o.lo+int32(len(o.c)))
	at := o.lo - w.lo
	for i, v := range o.c {
		if neg {
			v = -v
		}
		w.c[at+int32(i)] += v
	}
	if w.adds++; w.adds >= 1<<30-o.adds || neg {
		w.normalize()
	}
}

// span widens w's chunks to hold chunks lo to hi (and one more above,
// for a carry).
func (w *wide) span(lo, hi int32) {
	wlo, whi := w.lo, w.lo+int32(len(w.c))
	if lo >= wlo && hi < whi {
		return
	}
	nlo, nhi := min(lo, wlo), max(hi+1, whi)
	c := make([]int64, nhi-nlo, nhi-nlo+4)
	copy(c[wlo-nlo:], w.c)
	w.lo, w.c = nlo, c
}

// big is w's value over 2^−wideBias.
func (w *wide) big() *big.Int {
	n := new(big.Int)
	for i := len(w.c) - 1; i >= 0; i-- {
		n.Lsh(n, 32)
		n.Add(n, big.NewInt(w.c[i]))
	}
	return n.Lsh(n, uint(32*w.lo))
}

// moments are the mean and the sum of squared deviations from it of n
// values whose sum is s and sum of squares q, each rounded once.
func moments(n int64, s, q *wide) (mean, m2 float64) {
	if n == 0 {
		return 0, 0
	}
	bn := new(big.Float).SetInt64(n)
	sum := s.big()
	f := new(big.Float).SetInt(sum)
	f.SetMantExp(f, -wideBias)
	mean, _ = new(big.Float).SetPrec(53).Quo(f, bn).Float64()
	// M2 = q − s²/n = (n·q·2^bias − s²) / (n·2^(2·bias)), exactly.
	num := new(big.Int).Mul(q.big(), big.NewInt(n))
	num.Lsh(num, wideBias)
	num.Sub(num, new(big.Int).Mul(sum, sum))
	g := new(big.Float).SetInt(num)
	g.SetMantExp(g, -2*wideBias)
	m2, _ = new(big.Float).SetPrec(53).Quo(g, bn).Float64()
	return mean, m2
}

// appendWide appends w in normal form: its first chunk's index and its
// chunks, as varints.
func appendWide(dst []byte, w *wide) []byte {
	if w.adds > 0 {
		w.normalize()
	}
	dst = binary.AppendVarint(dst, int64(w.lo))
	dst = binary.AppendUvarint(dst, uint64(len(w.c)))
	for _, v := range w.c {
		dst = binary.AppendVarint(dst, v)
	}
	return dst
}

// wide adds to w (if not nil) the sum appendWide wrote; false: it
// does not read.
func (d *decoder) wide(w *wide) bool {
	lo, n := d.varint(), d.count()
	if d.bad || lo < 0 || lo+int64(n) > wideChunks+2 {
		d.bad = true
		return false
	}
	if w == nil {
		for range n {
			d.varint()
		}
		return !d.bad
	}
	if n == 0 {
		return true
	}
	var o wide
	if len(w.c) == 0 {
		o.lo, o.c = int32(lo), make([]int64, n, n+1)
		for i := range o.c {
			o.c[i] = d.varint()
		}
		*w = o
		return !d.bad
	}
	w.span(int32(lo), int32(lo)+int32(n))
	at := int32(lo) - w.lo
	for i := range n {
		w.c[at+int32(i)] += d.varint()
	}
	if w.adds++; w.adds >= 1<<30 {
		w.normalize()
	}
	return !d.bad
}
