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

// mergeSketch adds the bins appendSketch wrote to s, which has the
// same mapping (nil: reads past them); false: they do not read.
func mergeSketch(d *decoder, s *ddsketch.DDSketch) bool {
	if zeros := d.uvarint(); zeros > 0 && s != nil {
		_ = s.AddWithCount(0, float64(zeros)) // 0 counts as a zero
	}
	for side := range 2 {
		var st store.Store
		if s != nil {
			st = s.GetPositiveValueStore()
			if side == 1 {
				st = s.GetNegativeValueStore()
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
				st.AddWithCount(int(index), float64(count))
			}
		}
	}
	return !d.bad
}
