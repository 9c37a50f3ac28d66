package parquet

import (
	"bytes"
	"maps"
	"slices"
	"sync"

	pq "github.com/parquet-go/parquet-go"
	"github.com/zeebo/xxh3"

	"github.com/dxdata/dx/merge"
)

// Rows left unpaired are first compared column by column where they did
// not move. The key columns of the unpaired rows are decoded on both
// sides; a key at the same row of the same row group in both versions is
// in place. For an in-place row, a column is the same when the pages
// holding it there, in each version, are the same bytes (and dictionary)
// and start at the same row: such a column is not decoded. The other
// columns are decoded over the in-place rows their differing pages hold
// and compared value by value; a row found changed is then decoded whole
// in the new version (the old row is it with the old values of the
// columns that differ). The pages of one column shifting (a longer string
// in a writer without content-defined pages) costs that column alone. The
// rows not in place (added, removed, moved) are decoded whole on both
// sides and matched by key, as before.

// pos is a row of a version: its row group and row there.
type pos struct {
	g int
	r int64
}

// inPlace lists the changes of the in-place rows of pending and returns
// them with, per version, the row ranges left to decode whole (as
// segments).
func inPlace(vs [2]*version, pending [2][]segment, keyIdx [2][]int, seen [2]map[page]bool, st *merge.DiffStats) (changes []merge.RowChange, left [2][]segment, err error) {
	// keys[k]: the hashes of the keys of version k's pending rows, by runs
	// of consecutive rows in file order. A key is held as its 128-bit
	// hash, not its text: every row of a big table can be pending when its
	// pages shifted, and equal hashes are equal keys as equal chunk ids are
	// equal bytes.
	var keys [2][]keyRun
	// Each version on its own core, counting into its own stats.
	var sts [2]merge.DiffStats
	defer func() {
		for k := range sts {
			st.BytesParsed += sts[k].BytesParsed
		}
	}()
	err = bothSides(func(k int) error {
		v := vs[k]
		for _, s := range contiguous(pending[k]) {
			ks, err := v.rangeKeyHashes(s, keyIdx[k], seen[k], &sts[k])
			if err != nil {
				return err
			}
			keys[k] = append(keys[k], keyRun{g: s.group, from: s.from, keys: ks})
		}
		return nil
	})
	if err != nil {
		return nil, left, err
	}
	n1 := 0
	for _, s := range pending[1] {
		n1 += int(s.to - s.from)
	}
	same := make([]pos, 0, n1) // in place, in file order
	groups := vs[1].f.Metadata().RowGroups
	isSame := make([][]bool, len(groups))
	old0 := keyCursor{runs: keys[0]}
	for _, run := range keys[1] {
		for i, key := range run.keys {
			p := pos{run.g, run.from + int64(i)}
			if k0, ok := old0.at(p); ok && k0 == key {
				if isSame[p.g] == nil {
					isSame[p.g] = make([]bool, groups[p.g].NumRows)
				}
				isSame[p.g][p.r] = true
				same = append(same, p)
			}
		}
	}
	if err := inPlaceUnique(vs, keys, isSame, keyIdx, seen, st); err != nil {
		return nil, left, err
	}
	for k := range vs {
		left[k] = rangesOf(pending[k], func(p pos) bool {
			return p.g >= len(isSame) || isSame[p.g] == nil || p.r >= int64(len(isSame[p.g])) || !isSame[p.g][p.r]
		})
	}
	// Per column, the in-place rows whose pages differ, decoded on both
	// sides: the old values of the rows that changed.
	old := map[pos]map[int][]pq.Value{}
	keyLeaf := map[int]bool{}
	for _, c := range vs[1].keyLeaf {
		keyLeaf[c] = true
	}
	nLeaves := len(vs[1].f.Metadata().RowGroups[0].Columns)
	need := make([]pos, 0, len(same)) // reused column after column
	for c := range nLeaves {
		if keyLeaf[c] {
			continue
		}
		need = need[:0]
		known := map[[3]int]bool{} // (row group, page of each version): the same
		// The rows of same come in file order: the pages holding a row
		// hold the next ones up to the first page end of either version.
		var eq bool
		until := pos{g: -1}
		for _, p := range same {
			if p.g != until.g || p.r >= until.r {
				i0, _, n0 := vs[0].pageOf(p, c)
				i1, _, n1 := vs[1].pageOf(p, c)
				k := [3]int{p.g, i0, i1}
				e, ok := known[k]
				if !ok {
					e = samePage(vs, p, c)
					known[k] = e
				}
				eq, until = e, pos{p.g, min(n0, n1)}
			}
			if !eq {
				need = append(need, p)
			}
		}
		for _, run := range runs(need) {
			var vals [2][][]pq.Value
			err := bothSides(func(k int) error {
				v := vs[k]
				until := pos{g: -1}
				for _, p := range run {
					if p.g == until.g && p.r < until.r {
						continue // in the page counted last
					}
					until = pos{p.g, v.countPage(p, c, seen[k], &sts[k])} // once per page: seen
				}
				r, err := v.leafRows(run[0].g, c, run[0].r, run[len(run)-1].r+1)
				vals[k] = r
				return err
			})
			if err != nil {
				return nil, left, err
			}
			for i, p := range run {
				if !equalValues(vals[0][i], vals[1][i]) {
					if old[p] == nil {
						old[p] = map[int][]pq.Value{}
					}
					old[p][c] = slices.Clone(vals[0][i]) // not the run's array, which would stay alive
				}
			}
		}
	}
	rows := &rowReader{v: vs[1]}
	defer rows.close()
	for _, p := range same {
		if old[p] == nil {
			continue
		}
		vs[1].countRow(p, seen[1], st)
		nr, err := rows.read(p.g, p.r)
		if err != nil {
			return nil, left, &merge.SideError{Side: 1, Err: err}
		}
		or := make(pq.Row, 0, len(nr))
		for _, val := range nr {
			if _, ok := old[p][val.Column()]; !ok {
				or = append(or, val)
			}
		}
		for _, c := range slices.Sorted(maps.Keys(old[p])) {
			or = append(or, old[p][c]...)
		}
		var rows [2]merge.Row
		for k, r := range []pq.Row{or, nr} {
			row, err := vs[k].convert(r, keyIdx[k])
			if err != nil {
				return nil, left, &merge.SideError{Side: k, Err: invalid("row group %d: row %d: %v", p.g, p.r, err)}
			}
			row.Line = vs[k].rowNumber(p.g, p.r)
			rows[k] = row
		}
		st.RowsDecoded++
		o, n := rows[0], rows[1]
		if cols := changedColumns(&o, &n); len(cols) > 0 {
			changes = append(changes, merge.RowChange{Kind: merge.RowChanged, Key: n.Key, Old: &o, New: &n, Columns: cols})
		}
	}
	return changes, left, nil
}

// rangesOf cuts the rows of segs that keep accepts into runs of
// consecutive rows, as segments.
func rangesOf(segs []segment, keep func(pos) bool) []segment {
	var out []segment
	for _, s := range segs {
		for r := s.from; r < s.to; r++ {
			if !keep(pos{s.group, r}) {
				continue
			}
			if n := len(out); n > 0 && out[n-1].group == s.group && out[n-1].to == r {
				out[n-1].to++
				continue
			}
			out = append(out, segment{group: s.group, from: r, to: r + 1, indexed: s.indexed})
		}
	}
	return out
}

// contiguous joins the segments of segs (in file order) that follow each
// other in one row group: the rows of a changed chunk are many small
// segments (every column's page starts cut them), and a page decoded once
// per segment was decoded several times over.
func contiguous(segs []segment) []segment {
	var out []segment
	for _, s := range segs {
		if n := len(out); n > 0 && out[n-1].group == s.group && out[n-1].to == s.from && out[n-1].indexed == s.indexed {
			out[n-1].to = s.to
			continue
		}
		out = append(out, segment{group: s.group, from: s.from, to: s.to, indexed: s.indexed})
	}
	return out
}

// runs cuts sorted rows into runs of consecutive rows of one row group.
func runs(ps []pos) [][]pos {
	var out [][]pos
	start := 0
	for i := 1; i <= len(ps); i++ {
		if i == len(ps) || ps[i].g != ps[i-1].g || ps[i].r != ps[i-1].r+1 || i-start == window {
			out = append(out, ps[start:i:i]) // a slice of ps, not a copy
			start = i
		}
	}
	return out
}

// window is the most rows of one column decoded at once: a run of rows
// longer than it (a whole row group, where a column's pages all shifted)
// is decoded a window at a time, so that memory does not grow with the
// row group.
const window = 1 << 16

// pageOf is leaf column c's page holding row p: its index (-2: the whole
// column chunk, without an offset index), its first row and the row after
// its last.
func (v *version) pageOf(p pos, c int) (idx int, first, next int64) {
	rows := v.f.Metadata().RowGroups[p.g].NumRows
	l := v.columnPages(p.g, c)
	if l == nil {
		return -2, 0, rows
	}
	j := pageAt(l, p.r)
	next = rows
	if j+1 < len(l) {
		next = l[j+1].FirstRowIndex
	}
	return j, l[j].FirstRowIndex, next
}

// pageBytes are the bytes leaf column c's page idx of row group g (rows
// [first, next)) is decoded from, its dictionary page's too, and what else
// decides its values, as a segment's column is named.
func (v *version) pageBytes(g, c, idx int, first, next int64) colBytes {
	md := &v.f.Metadata().RowGroups[g].Columns[c].MetaData
	var sc colScratch
	if idx < 0 {
		sc.whole(md, next-first)
	} else {
		sc.page(md, v.columnPages(g, c), idx, first, next)
	}
	return sc.cols[0]
}

// samePage reports whether leaf column c holds the same values at row p
// in both versions without decoding them: the pages holding it start and
// end at the same rows and are the same bytes (by the chunks holding
// them, else read).
func samePage(vs [2]*version, p pos, c int) bool {
	i0, f0, n0 := vs[0].pageOf(p, c)
	i1, f1, n1 := vs[1].pageOf(p, c)
	if f0 != f1 || n0 != n1 {
		return false
	}
	b0, b1 := vs[0].pageBytes(p.g, c, i0, f0, n0), vs[1].pageBytes(p.g, c, i1, f1, n1)
	if vs[0].chunkID([]colBytes{b0}) == vs[1].chunkID([]colBytes{b1}) {
		return true
	}
	return vs[0].colContent(b0) == vs[1].colContent(b1)
}

// countPage adds to st the bytes of leaf column c's page (and dictionary)
// holding row p, once, and returns the row after that page.
func (v *version) countPage(p pos, c int, seen map[page]bool, st *merge.DiffStats) int64 {
	idx, first, next := v.pageOf(p, c)
	v.countPages(segment{group: p.g, from: first, to: next, indexed: idx >= 0}, []int{c}, seen, st)
	return next
}

// countRow adds to st the bytes of every column's page holding row p.
func (v *version) countRow(p pos, seen map[page]bool, st *merge.DiffStats) {
	for c := range v.f.Metadata().RowGroups[p.g].Columns {
		v.countPage(p, c, seen, st)
	}
}

// bothSides runs fn for each version at once; an error of one comes back
// as a SideError of its side (the old one's first).
func bothSides(fn func(k int) error) error {
	var errs [2]error
	var wg sync.WaitGroup
	for k := range errs {
		wg.Go(func() { errs[k] = fn(k) })
	}
	wg.Wait()
	for k, err := range errs {
		if err != nil {
			return &merge.SideError{Side: k, Err: err}
		}
	}
	return nil
}

// inPlaceUnique fails with a DuplicateKeyError when a pending row that
// is not in place has the key of an in-place row of its version. Keys
// repeated among the rows not in place are found when those are decoded
// and matched; a key repeated among in-place rows is in both versions
// alike, and the diff of those rows stays right.
func inPlaceUnique(vs [2]*version, keys [2][]keyRun, isSame [][]bool, keyIdx [2][]int, seen [2]map[page]bool, st *merge.DiffStats) error {
	inPlaceRow := func(p pos) bool {
		return p.g < len(isSame) && isSame[p.g] != nil && p.r < int64(len(isSame[p.g])) && isSame[p.g][p.r]
	}
	for k, v := range vs {
		moved := map[xxh3.Uint128]pos{}
		for _, run := range keys[k] {
			for i, key := range run.keys {
				if p := (pos{run.g, run.from + int64(i)}); !inPlaceRow(p) {
					moved[key] = p
				}
			}
		}
		if len(moved) == 0 {
			continue
		}
		for _, run := range keys[k] {
			for i, key := range run.keys {
				p, ok := moved[key]
				if !ok || !inPlaceRow(pos{run.g, run.from + int64(i)}) {
					continue
				}
				ks, err := v.rangeKeys(segment{group: p.g, from: p.r, to: p.r + 1, indexed: true}, keyIdx[k], seen[k], st)
				if err != nil {
					return &merge.SideError{Side: k, Err: err}
				}
				return &merge.SideError{Side: k, Err: &merge.DuplicateKeyError{Key: ks[0]}}
			}
		}
	}
	return nil
}

// keyRun holds the key hashes of consecutive rows of a row group,
// starting at row from.
type keyRun struct {
	g    int
	from int64
	keys []xxh3.Uint128
}

// keyCursor finds the keys of rows asked for in file order in runs (in
// file order).
type keyCursor struct {
	runs []keyRun
	i    int
}

// at is the key hash of row p, false if no run holds it; p must not come
// before a row asked for earlier.
func (c *keyCursor) at(p pos) (xxh3.Uint128, bool) {
	for c.i < len(c.runs) {
		r := &c.runs[c.i]
		if r.g > p.g || r.g == p.g && r.from+int64(len(r.keys)) > p.r {
			break
		}
		c.i++
	}
	if c.i == len(c.runs) {
		return xxh3.Uint128{}, false
	}
	if r := &c.runs[c.i]; r.g == p.g && r.from <= p.r {
		return r.keys[p.r-r.from], true
	}
	return xxh3.Uint128{}, false
}

// rangeKeys decodes the key columns of the rows of s: their keys, in order.
func (v *version) rangeKeys(s segment, keyIdx []int, seen map[page]bool, st *merge.DiffStats) ([]string, error) {
	out := make([]string, 0, s.to-s.from)
	err := v.eachKey(s, keyIdx, seen, st, func(key []byte) { out = append(out, string(key)) })
	return out, err
}

// rangeKeyHashes is rangeKeys as the 128-bit hashes of the keys, with no
// string made per row: the keys of every pending row are hashed.
func (v *version) rangeKeyHashes(s segment, keyIdx []int, seen map[page]bool, st *merge.DiffStats) ([]xxh3.Uint128, error) {
	out := make([]xxh3.Uint128, 0, s.to-s.from)
	err := v.eachKey(s, keyIdx, seen, st, func(key []byte) { out = append(out, xxh3.Hash128(key)) })
	return out, err
}

// eachKey calls fn with the key of each row of s, in order, as the text
// the rows decoded whole have (valid only during the call).
func (v *version) eachKey(s segment, keyIdx []int, seen map[page]bool, st *merge.DiffStats, fn func(key []byte)) error {
	for _, leaf := range v.keyLeaf {
		for r := s.from; r < s.to; {
			r = max(v.countPage(pos{s.group, r}, leaf, seen, st), r+1)
		}
	}
	var text, scratch []byte
	if len(v.keyLeaf) == 1 {
		node := v.fields[keyIdx[0]]
		return v.eachFirst(s.group, v.keyLeaf[0], s.from, s.to, func(_ int, val pq.Value) (err error) {
			text, scratch, err = appendKeyText(text[:0], scratch, node, val)
			if err == nil {
				fn(text)
			}
			return err
		})
	}
	parts := make([][]string, len(v.keyLeaf))
	for j, leaf := range v.keyLeaf {
		node := v.fields[keyIdx[j]]
		parts[j] = make([]string, 0, s.to-s.from)
		err := v.eachFirst(s.group, leaf, s.from, s.to, func(_ int, val pq.Value) (err error) {
			text, scratch, err = appendKeyText(text[:0], scratch, node, val)
			parts[j] = append(parts[j], string(text))
			return err
		})
		if err != nil {
			return err
		}
	}
	for i := range parts[0] {
		text = text[:0]
		for j := range parts {
			if j > 0 {
				text = append(text, merge.KeySep...)
			}
			text = append(text, parts[j][i]...)
		}
		fn(text)
	}
	return nil
}

// appendKeyText appends the text of one key value, as jsonText gives it
// for the value's JSON (a string's content, other values as JSON, null
// as "null"); scratch is reused for the JSON.
func appendKeyText(dst, scratch []byte, node pq.Node, val pq.Value) (text, scratchOut []byte, err error) {
	if val.IsNull() {
		return append(dst, "null"...), scratch, nil
	}
	b, err := appendLeaf(scratch[:0], node, val)
	switch {
	case err != nil:
		return dst, b, err
	case len(b) >= 2 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0:
		// A JSON string without escapes: its content, verbatim.
		return append(dst, b[1:len(b)-1]...), b, nil
	case len(b) > 0 && b[0] == '"':
		return append(dst, jsonText(string(b))...), b, nil
	}
	return append(dst, b...), b, nil
}
