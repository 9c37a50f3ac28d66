package parquet

import (
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
// side k alone; pending[k] the segments of side k that were decoded.
func checkCovered(vs [2]*version, pending [2][]segment, only [2][]merge.RowChange, keyIdx [2][]int, seen [2]map[page]bool, st *merge.DiffStats) error {
	for k := range 2 {
		other := vs[1-k]
		if other.f == nil || len(only[k]) == 0 || vs[k].keyLeaf == nil || other.keyLeaf == nil {
			continue
		}
		decoded := map[[2]int64]bool{}
		for _, s := range pending[1-k] {
			decoded[[2]int64{int64(s.group), s.from}] = true
		}
		for _, s := range other.segs {
			if decoded[[2]int64{int64(s.group), s.from}] || s.to == s.from {
				continue
			}
			var keys map[string]bool
			for _, c := range only[k] {
				vals := vs[k].keyVals[c.Key]
				if !other.mayHold(s, vals, keyIdx[1-k]) {
					continue
				}
				if keys == nil {
					ks, err := other.rangeKeys(s, keyIdx[1-k], seen[1-k], st)
					if err != nil {
						return &merge.SideError{Side: 1 - k, Err: err}
					}
					keys = map[string]bool{}
					for _, key := range ks {
						keys[key] = true
					}
				}
				if keys[c.Key] {
					return &merge.SideError{Side: k, Err: &merge.DuplicateKeyError{Key: c.Key}} // there, and in the partner of s
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
