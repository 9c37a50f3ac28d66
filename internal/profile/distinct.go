package profile

import (
	"encoding/binary"
	"math/bits"
	"slices"

	"github.com/axiomhq/hyperloglog"
	"github.com/zeebo/xxh3"
)

// hllPrecision is the distinct counts' HyperLogLog precision: 2^12
// registers, a standard error of 1.04/√4096 = 1.6%.
const hllPrecision = 12

// registers are a HyperLogLog's registers: a span's as the list of the
// registers its values set, in index order (see sparseRegisters); merged,
// as a dense array. The estimate is axiomhq/hyperloglog's (LogLog-Beta).
type registers struct {
	sparse []byte
	dense  []uint8
}

// A sparse list holds each register set as its index's gap from the
// previous one's and its rank: in one byte, gap<<3 | rank-1, while the
// gap is below shortGaps and the rank at most 8 (a span of a few hundred
// values sets registers ~12 apart, of rank 1 or 2 mostly); else in three,
// an escape byte then two little-endian bytes, gap<<6 | rank (a gap
// longer than maxGap takes entries of rank 0, which set nothing).
const (
	shortGaps = 28
	escape    = shortGaps << 3
	maxGap    = 1<<10 - 1
)

// sparseRegisters encodes the registers set in dense, which set marks
// (a bit a register).
func sparseRegisters(dense *[1 << hllPrecision]uint8, set *[1 << hllPrecision / 64]uint64) *registers {
	out := make([]byte, 0, 512)
	prev := 0
	for w, bitsSet := range set {
		for bitsSet != 0 {
			i := w*64 + bits.TrailingZeros64(bitsSet)
			bitsSet &= bitsSet - 1
			gap, rank := i-prev, dense[i]
			for ; gap > maxGap; gap -= maxGap {
				out = binary.LittleEndian.AppendUint16(append(out, escape), maxGap<<6)
			}
			if gap < shortGaps && rank >= 1 && rank <= 8 {
				out = append(out, byte(gap<<3)|(rank-1))
			} else {
				out = binary.LittleEndian.AppendUint16(append(out, escape), uint16(gap<<6)|uint16(rank))
			}
			prev = i
		}
	}
	return &registers{sparse: out}
}

// eachSparse calls fn with each register a sparse list sets.
func eachSparse(b []byte, fn func(idx uint32, rank uint8)) {
	idx := uint32(0)
	for len(b) > 0 {
		gap, rank := uint32(b[0]>>3), b[0]&7+1
		b = b[1:]
		if gap >= shortGaps {
			if len(b) < 2 {
				return // a corrupt list: the registers it has
			}
			e := binary.LittleEndian.Uint16(b)
			gap, rank, b = uint32(e>>6), uint8(e&63), b[2:]
		}
		if idx += gap; idx >= 1<<hllPrecision {
			return
		}
		if rank != 0 {
			fn(idx, rank)
		}
	}
}

// hashValue is a value's 64-bit hash; it is stored (in registers), so it
// never changes.
func hashValue(v []byte) uint64 { return xxh3.Hash(v) }

// register is where hash x goes: its index and its rank (the position of
// the first 1 bit of the rest, from 1).
func register(x uint64) uint32 {
	idx := x >> (64 - hllPrecision)
	w := x<<hllPrecision | 1<<(hllPrecision-1)
	return uint32(idx)<<6 | uint32(bits.LeadingZeros64(w)+1)
}

// toDense makes r dense, to merge into.
func (r *registers) toDense() {
	if r.dense != nil {
		return
	}
	r.dense = make([]uint8, 1<<hllPrecision)
	eachSparse(r.sparse, func(idx uint32, rank uint8) { r.dense[idx] = max(r.dense[idx], rank) })
	r.sparse = nil
}

// add sets the register of one value's hash.
func (r *registers) add(x uint64) {
	r.toDense()
	e := register(x)
	r.dense[e>>6] = max(r.dense[e>>6], uint8(e&63))
}

// merge adds o's registers to r's.
func (r *registers) merge(o *registers) {
	r.toDense()
	d := (*[1 << hllPrecision]uint8)(r.dense)
	idx := uint32(0)
	b := o.sparse
	for i := 0; i < len(b); i++ { // eachSparse, inlined
		gap, rank := uint32(b[i]>>3), b[i]&7+1
		if gap >= shortGaps {
			if i+2 >= len(b) {
				break
			}
			e := uint32(b[i+1]) | uint32(b[i+2])<<8
			gap, rank = e>>6, uint8(e&63)
			i += 2
		}
		idx += gap
		if j := idx & (1<<hllPrecision - 1); rank > d[j] {
			d[j] = rank
		}
	}
	if len(o.dense) == len(d) {
		for i, v := range o.dense {
			d[i] = max(d[i], v)
		}
	}
}

func (r *registers) clone() *registers {
	return &registers{sparse: slices.Clone(r.sparse), dense: slices.Clone(r.dense)}
}

// estimate is the distinct count the registers estimate.
func (r *registers) estimate() uint64 {
	s, err := hyperloglog.NewSketch(hllPrecision, false)
	if err != nil {
		panic(err) // a constant precision in range
	}
	d := r.clone()
	d.toDense()
	for i, rank := range d.dense {
		if rank == 0 {
			continue
		}
		// A hash whose index is i and whose rest starts with rank-1
		// zeros (all zeros: the highest rank): the sketch puts it in the
		// same register.
		x := uint64(i) << (64 - hllPrecision)
		if rank <= 64-hllPrecision {
			x |= 1 << (64 - hllPrecision - rank)
		}
		s.InsertHash(x)
	}
	return s.Estimate()
}

// encode appends r: sparse as its list, dense as is.
func (r *registers) encode(dst []byte) []byte {
	if r.dense != nil {
		dst = append(dst, 'd')
		return append(dst, r.dense...)
	}
	return appendString(append(dst, 's'), bytesString(r.sparse))
}

// decodeRegisters reads what encode wrote, viewed, not copied (ok:
// well formed).
func decodeRegisters(d *decoder) (r registers, ok bool) {
	switch d.byte() {
	case 'd':
		if len(d.b) < 1<<hllPrecision {
			d.bad, d.b = true, nil
			return r, false
		}
		r.dense, d.b = d.b[:1<<hllPrecision], d.b[1<<hllPrecision:]
		return r, true
	case 's':
		r.sparse = d.bytes()
		return r, !d.bad
	}
	d.bad = true
	return r, false
}
