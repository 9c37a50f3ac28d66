package cdcwrite

import "github.com/dxdata/dx/store/chunker"

// roller is a gear rolling hash (as in FastCDC) with a sticky match: it
// remembers whether the hash's high bits were all zero after a byte fed
// once min bytes were in since the last reset. A boundary is then due at
// the end of the row (a row lies in one page and one row group). Matches
// before min do not count, as in FastCDC and Arrow, so where a boundary
// falls depends on the bytes before it and not on where the page began.
type roller struct {
	h        uint64
	mask     uint64
	min, max int64
	matched  bool
	size     int64 // bytes fed since the last reset
}

func (r *roller) feed(b []byte) {
	h := r.h
	if r.matched || r.size+int64(len(b)) <= r.min {
		for _, c := range b {
			h = h<<1 + gear[c]
		}
	} else {
		m := false
		for i, c := range b {
			h = h<<1 + gear[c]
			m = m || (h&r.mask == 0 && r.size+int64(i) >= r.min)
		}
		r.matched = m
	}
	r.h, r.size = h, r.size+int64(len(b))
}

func (r *roller) feedByte(c byte) {
	r.h = r.h<<1 + gear[c]
	r.matched = r.matched || (r.h&r.mask == 0 && r.size >= r.min)
	r.size++
}

// due says whether a boundary belongs after what was fed: the hash
// matched past min bytes, or max bytes are in.
func (r *roller) due() bool { return r.matched || r.size >= r.max }

// reset starts a new page or row group; the hash keeps rolling, as it
// depends on the last 64 bytes only.
func (r *roller) reset() { r.matched, r.size = false, 0 }

// highBits is a mask of the top n bits, which depend on the last 64 bytes
// fed (the low bits only on the last few).
func highBits(n int) uint64 {
	if n <= 0 {
		return 0
	}
	return ^uint64(0) << (64 - n)
}

// gear is the hash's byte table. Changing it moves every boundary the
// writer makes; TestGearGolden pins it.
var gear = chunker.GearTable(0x6478_7071_6364_6331) // "dxpqcdc1"
