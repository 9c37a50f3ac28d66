package parquet

import (
	"slices"

	pq "github.com/parquet-go/parquet-go"

	"github.com/dxdata/dx/merge"
)

// A key decoded on one side only (added or removed) may yet be, on the
// other side, in a segment that was paired or aligned and so not decoded:
// then the segment's partner holds it too, and the key is in its own
// version twice. For a version valid by its key that cannot be; checking
// it turns such a version into a DuplicateKeyError rather than a wrong
// diff. Only the key columns of the other side's segments whose key range
// (the column index's page min and max, else the row group's statistics)
// could hold the key are decoded.

// noteKey keeps the key column values of a decoded row (cols: its values
// by leaf column).
func (v *version) noteKey(key string, cols [][]pq.Value) {
	if v.keyVals == nil || v.keyLeaf == nil {
		return
	}
	vals := make([]pq.Value, len(v.keyLeaf))
	for j, l := range v.keyLeaf {
		if len(cols[l]) > 0 {
			vals[j] = cols[l][0].Clone()
		}
	}
	v.keyVals[key] = vals
}

// checkCovered fails with a DuplicateKeyError when a removed row's key is
// in a segment of the new version the diff did not decode, or an added
// row's in one of the old version's. only[k] are the changes decoded on
// side k alone; pending[k] the segments of side k that were decoded. With
// one key column, the keys are sorted once and each segment's range is
// found by binary search: appended keys beyond every segment's range then
// cost nothing per segment.
func checkCovered(vs [2]*version, pending [2][]segment, only [2][]merge.RowChange, keyIdx [2][]int, seen [2]map[page]bool, st *merge.DiffStats) error {
	type cand struct {
		key  string
		vals []pq.Value
	}
	for k := range 2 {
		other := vs[1-k]
		if other.f == nil || len(only[k]) == 0 || vs[k].keyLeaf == nil || other.keyLeaf == nil {
			continue
		}
		decoded := map[[2]int64]bool{}
		for _, s := range pending[1-k] {
			decoded[[2]int64{int64(s.group), s.from}] = true
		}
		cands := make([]cand, 0, len(only[k]))
		sorted := len(other.keyLeaf) == 1
		for _, c := range only[k] {
			vals := vs[k].keyVals[c.Key]
			cands = append(cands, cand{c.Key, vals})
			sorted = sorted && len(vals) == 1 && !vals[0].IsNull()
		}
		var typ pq.Type
		if sorted {
			typ = other.fields[keyIdx[1-k][0]].Type()
			slices.SortFunc(cands, func(a, b cand) int { return typ.Compare(a.vals[0], b.vals[0]) })
		}
		for _, s := range other.segs {
			if decoded[[2]int64{int64(s.group), s.from}] || s.to == s.from {
				continue
			}
			in := cands
			if sorted {
				if lo, hi, ok := other.bounds(s, other.keyLeaf[0], typ); ok {
					i, _ := slices.BinarySearchFunc(cands, lo, func(c cand, v pq.Value) int { return typ.Compare(c.vals[0], v) })
					j := i
					for j < len(cands) && typ.Compare(cands[j].vals[0], hi) <= 0 {
						j++
					}
					in = cands[i:j]
				}
			}
			var keys map[string]bool
			for _, c := range in {
				if !sorted && !other.mayHold(s, c.vals, keyIdx[1-k]) {
					continue
				}
				if keys == nil {
					ks, err := other.rangeKeys(s, keyIdx[1-k], seen[1-k], st)
					if err != nil {
						return &merge.SideError{Side: 1 - k, Err: err}
					}
					keys = make(map[string]bool, len(ks))
					for _, key := range ks {
						keys[key] = true
					}
				}
				if keys[c.key] {
					return &merge.SideError{Side: k, Err: &merge.DuplicateKeyError{Key: c.key}} // there, and in the partner of s
				}
			}
		}
	}
	return nil
}

// mayHold reports whether segment s may hold a row with the key column
// values vals: false only when a key column's known range excludes one.
func (v *version) mayHold(s segment, vals []pq.Value, keyIdx []int) bool {
	if len(vals) != len(v.keyLeaf) {
		return true
	}
	for j, leaf := range v.keyLeaf {
		typ := v.fields[keyIdx[j]].Type()
		lo, hi, ok := v.bounds(s, leaf, typ)
		if !ok || vals[j].IsNull() {
			continue
		}
		if typ.Compare(vals[j], lo) < 0 || typ.Compare(vals[j], hi) > 0 {
			return false
		}
	}
	return true
}

// bounds are the least and greatest values of leaf column leaf in s, as
// the file's statistics say: its page's, else its row group's.
func (v *version) bounds(s segment, leaf int, typ pq.Type) (lo, hi pq.Value, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	md := v.f.Metadata()
	n := len(md.RowGroups[s.group].Columns)
	if oi := v.f.OffsetIndexes(); s.indexed && len(v.f.ColumnIndexes()) == len(oi) {
		if ci, err := v.f.RowGroups()[s.group].ColumnChunks()[leaf].ColumnIndex(); err == nil && ci != nil {
			p := pageAt(oi[s.group*n+leaf].PageLocations, s.from)
			if p < ci.NumPages() && !ci.NullPage(p) {
				return ci.MinValue(p), ci.MaxValue(p), true
			}
		}
	}
	stats := &md.RowGroups[s.group].Columns[leaf].MetaData.Statistics
	if len(stats.MinValue) == 0 || len(stats.MaxValue) == 0 {
		return lo, hi, false
	}
	return typ.Kind().Value(stats.MinValue), typ.Kind().Value(stats.MaxValue), true
}
