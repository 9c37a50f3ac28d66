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
// registers its values set (see sparseRegisters); merged, as a dense
// array. The estimate is axiomhq/hyperloglog's (LogLog-Beta).
type registers struct {
	sparse []byte
	dense  []uint8
	// floor is the least dense register, and atFloor how many registers
	// have it: a merge skips the sparse entries of ranks up to it, which
	// cannot raise a register, and floor rises as soon as the last
	// register at it does.
	floor   uint8
	atFloor int
}

// A sparse list holds the registers set rank by rank, the highest rank
// first: the rank (a byte), how many registers have it (a uvarint), and
// their indices in ascending order, each as its gap from the one before
// (a uvarint; the first from 0). A span of a few hundred values sets
// registers of rank 1 or 2 mostly, ~24 and ~48 apart: a byte an entry
// mostly. Merged into registers that many values have raised, the list
// is read only down to their floor (most of a span's entries are of the
// lowest ranks).

// sparseRegisters encodes the registers set in dense, which set marks
// (a bit a register).
func sparseRegisters(dense *[1 << hllPrecision]uint8, set *[1 << hllPrecision / 64]uint64) *registers {
	var byRank [64]int // how many registers have each rank
	n := 0
	for w, bitsSet := range set {
		for ; bitsSet != 0; bitsSet &= bitsSet - 1 {
			byRank[dense[w*64+bits.TrailingZeros64(bitsSet)]]++
			n++
		}
	}
	// The registers' indices bucketed by rank, the highest first, each
	// bucket in ascending order.
	var start [64]int
	at := 0
	for r := 63; r >= 1; r-- {
		start[r] = at
		at += byRank[r]
	}
	idx := make([]uint16, n)
	for w, bitsSet := range set {
		for ; bitsSet != 0; bitsSet &= bitsSet - 1 {
			i := w*64 + bits.TrailingZeros64(bitsSet)
			if r := dense[i]; r != 0 {
				idx[start[r]] = uint16(i)
				start[r]++
			}
		}
	}
	out := make([]byte, 0, n+64)
	at = 0
	for r := 63; r >= 1; r-- {
		if byRank[r] == 0 {
			continue
		}
		out = binary.AppendUvarint(append(out, byte(r)), uint64(byRank[r]))
		prev := 0
		for _, i := range idx[at : at+byRank[r]] {
			out = binary.AppendUvarint(out, uint64(int(i)-prev))
			prev = int(i)
		}
		at += byRank[r]
	}
	return &registers{sparse: out}
}

// eachSparse calls fn with each register a sparse list sets, down to
// rank floor+1 (a corrupt list: the registers before the corruption).
func eachSparse(b []byte, floor uint8, fn func(idx uint32, rank uint8)) {
	for len(b) > 0 {
		rank := b[0]
		n, k := binary.Uvarint(b[1:])
		if rank == 0 || rank > 63 || k <= 0 || rank <= floor {
			return
		}
		b = b[1+k:]
		idx := uint64(0)
		for ; n > 0; n-- {
			gap, k := binary.Uvarint(b)
			if k <= 0 {
				return
			}
			b = b[k:]
			if idx += gap; idx >= 1<<hllPrecision {
				return
			}
			fn(uint32(idx), rank)
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
	eachSparse(r.sparse, 0, func(idx uint32, rank uint8) { r.dense[idx] = max(r.dense[idx], rank) })
	r.sparse = nil
	r.findFloor()
}

// findFloor sets floor and atFloor from the dense registers.
func (r *registers) findFloor() {
	r.floor = slices.Min(r.dense)
	r.atFloor = 0
	for _, v := range r.dense {
		if v == r.floor {
			r.atFloor++
		}
	}
}

// set raises dense register j to rank, if below it.
func (r *registers) set(j uint64, rank uint8) {
	if old := r.dense[j]; rank > old {
		if old == r.floor {
			r.atFloor--
		}
		r.dense[j] = rank
	}
}

// add sets the register of one value's hash.
func (r *registers) add(x uint64) {
	r.toDense()
	e := register(x)
	r.set(uint64(e>>6), uint8(e&63))
	if r.atFloor == 0 {
		r.findFloor()
	}
}

// merge adds o's registers to r's.
func (r *registers) merge(o *registers) {
	r.toDense()
	defer func() {
		if r.atFloor == 0 {
			r.findFloor()
		}
	}()
	d := (*[1 << hllPrecision]uint8)(r.dense)
	// eachSparse, inlined.
	for b := o.sparse; len(b) > 0; {
		rank := b[0]
		n, k := binary.Uvarint(b[1:])
		if rank == 0 || rank > 63 || k <= 0 || rank <= r.floor {
			break
		}
		b = b[1+k:]
		idx := uint64(0)
		for ; n > 0 && len(b) > 0; n-- {
			gap := uint64(b[0])
			if gap < 0x80 {
				b = b[1:]
			} else if gap, k = binary.Uvarint(b); k > 0 {
				b = b[k:]
			} else {
				return
			}
			idx += gap
			j := idx & (1<<hllPrecision - 1)
			if old := d[j]; rank > old {
				if old == r.floor {
					r.atFloor--
				}
				d[j] = rank
			}
		}
	}
	if len(o.dense) == len(d) {
		for i, v := range o.dense {
			d[i] = max(d[i], v)
		}
		r.findFloor()
	}
}

func (r *registers) clone() *registers {
	c := &registers{sparse: slices.Clone(r.sparse), dense: slices.Clone(r.dense), floor: r.floor, atFloor: r.atFloor}
	if c.dense != nil && c.atFloor == 0 {
		c.findFloor() // a view of an encoding: not known
	}
	return c
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
