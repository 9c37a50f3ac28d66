package profile

import (
	"encoding/binary"
	"math"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/DataDog/sketches-go/ddsketch/store"
)

// A DDSketch is stored as its bins: the count of zeros, then the
// positive and the negative values' bins, each as their number and
// (index, count) pairs, the index as a signed difference from the one
// before. Every count is whole (values are added one at a time), so
// counts are varints. Read back, the bins are added straight into the
// merged sketch's dense stores (the library's own encoding decodes its
// mapping anew for each sketch).

// maxSketchIndex bounds a stored bin's index: a finite float64's index
// at 1% accuracy is within ±40,000, and a dense store grows to span its
// indices.
const maxSketchIndex = 1 << 20

// appendSketch appends s's bins.
func appendSketch(dst []byte, s *ddsketch.DDSketch) []byte {
	dst = binary.AppendUvarint(dst, uint64(s.GetZeroCount()))
	for _, st := range []store.Store{s.GetPositiveValueStore(), s.GetNegativeValueStore()} {
		n := 0
		st.ForEach(func(int, float64) bool { n++; return false })
		dst = binary.AppendUvarint(dst, uint64(n))
		prev := 0
		st.ForEach(func(index int, count float64) bool {
			dst = binary.AppendVarint(dst, int64(index-prev))
			dst = binary.AppendUvarint(dst, uint64(count))
			prev = index
			return false
		})
	}
	return dst
}

// mergeSketch adds the bins appendSketch wrote to b (nil: reads past
// them); false: they do not read.
func mergeSketch(d *decoder, b *sketchBins) bool {
	if zeros := d.uvarint(); b != nil {
		b.zeros += zeros
	}
	for side := range 2 {
		var st *denseBins
		if b != nil {
			st = &b.pos
			if side == 1 {
				st = &b.neg
			}
		}
		index := int64(0)
		for range d.count() {
			index += d.varint()
			count := d.uvarint()
			if d.bad || index < -maxSketchIndex || index > maxSketchIndex || count > math.MaxInt64 {
				d.bad = true
				return false
			}
			if st != nil {
				st.add(int(index), count)
			}
		}
	}
	return !d.bad
}

// sketchBins add up the bins of the quantile sketches merged into a
// column, to be put into its sketch at once (see Column.flushSketch):
// a DDSketch's stores take one bin at a time, each through an interface
// and a range check, where here a bin is an add to an array.
type sketchBins struct {
	zeros    uint64
	pos, neg denseBins
}

// denseBins are counts by bin index, from offset.
type denseBins struct {
	offset int
	counts []uint64
}

func (b *denseBins) add(index int, n uint64) {
	switch {
	case len(b.counts) == 0:
		b.offset, b.counts = index, make([]uint64, 1, 64)
	case index < b.offset:
		// Grown by as many again below, as append grows above.
		grow := b.offset - index + len(b.counts)
		counts := make([]uint64, grow+len(b.counts))
		copy(counts[grow:], b.counts)
		b.offset, b.counts = b.offset-grow, counts
	case index >= b.offset+len(b.counts):
		b.counts = append(b.counts, make([]uint64, index-b.offset-len(b.counts)+1)...)
	}
	b.counts[index-b.offset] += n
}

// into adds the bins to s (the same mapping).
func (b *sketchBins) into(s *ddsketch.DDSketch) {
	if b.zeros > 0 {
		_ = s.AddWithCount(0, float64(b.zeros)) // 0 counts as a zero
	}
	for side, st := range []store.Store{s.GetPositiveValueStore(), s.GetNegativeValueStore()} {
		bins := &b.pos
		if side == 1 {
			bins = &b.neg
		}
		for i, n := range bins.counts {
			if n > 0 {
				st.AddWithCount(bins.offset+i, float64(n))
			}
		}
	}
}
