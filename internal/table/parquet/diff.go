package parquet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	pq "github.com/parquet-go/parquet-go"

	"github.com/dxdata/dx/merge"
)

// SchemaChange is a diff of two versions whose schemas differ: their rows
// are not compared. Old and New describe the columns, one per line.
type SchemaChange struct {
	Old, New []string
}

func (e *SchemaChange) Error() string {
	var parts []string
	for _, c := range e.Old {
		if !slices.Contains(e.New, c) {
			parts = append(parts, "- "+c)
		}
	}
	for _, c := range e.New {
		if !slices.Contains(e.Old, c) {
			parts = append(parts, "+ "+c)
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "columns reordered")
	}
	return "the schema changed (" + strings.Join(parts, "; ") + "); rows are not compared"
}

// Diff compares two versions of a Parquet table by key (by whole rows
// when key is empty). A version without chunks is no file: every row of
// the other is added or removed. Only the footers and page indexes of
// both versions are read, then the segments (see segment) that differ:
// segments with the same bytes in both versions are paired and never
// decoded. The rows of the unpaired segments are decoded and matched by
// key. Keys are unique in a version, so a key in an unpaired segment of
// one version is, in the other, in an unpaired segment too (a paired
// segment holds the same keys in both) or absent: matching the decoded
// rows alone is the whole diff.
//
// A version that is not valid Parquet, or whose key columns are missing,
// is an error that is merge.ErrInvalidRows, inside a merge.SideError; two
// schemas that differ are a *SchemaChange.
func Diff(ctx context.Context, key []string, a, b merge.Source) (*merge.RowDiff, error) {
	return diff(ctx, key, a, b, true)
}

// diff is Diff; without pageIndex it reads no page index, as for files
// written without one.
func diff(ctx context.Context, key []string, a, b merge.Source, pageIndex bool) (res *merge.RowDiff, err error) {
	defer func() {
		if p := recover(); p != nil { // the library on a damaged file
			res, err = nil, invalid("not valid Parquet: %v", p)
		}
	}()
	// Each version is opened (its footer read, its rows cut into
	// segments) on its own core.
	var vs [2]*version
	srcs := [2]merge.Source{a, b}
	if err := bothSides(func(k int) (err error) {
		vs[k], err = openVersion(ctx, srcs[k], pageIndex)
		return err
	}); err != nil {
		return nil, err
	}
	if vs[0].f != nil && vs[1].f != nil {
		if o, n := vs[0].schemaText(), vs[1].schemaText(); !slices.Equal(o, n) {
			return nil, &SchemaChange{Old: o, New: n}
		}
	}
	var keyIdx [2][]int
	for k, v := range vs {
		if v.f == nil {
			continue
		}
		for _, c := range key {
			i := slices.Index(v.cols, c)
			if i < 0 {
				return nil, &merge.SideError{Side: k, Err: invalid("key column %q is not in the schema (%s)", c, strings.Join(v.cols, ", "))}
			}
			keyIdx[k] = append(keyIdx[k], i)
		}
	}
	for k, v := range vs {
		if v.f != nil && len(key) > 0 {
			v.keyLeaf = v.keyLeaves(keyIdx[k])
			v.keyVals = map[string][]pq.Value{}
		}
	}
	// Rows compared in place read a column's bytes only where its chunks
	// differ: pairing whole segments by their bytes would read every
	// column of every segment left.
	compareInPlace := vs[0].f != nil && vs[1].f != nil && vs[0].keyLeaf != nil && vs[1].keyLeaf != nil
	pending := pair(vs, !compareInPlace)
	res = &merge.RowDiff{OldHeader: merge.Header{Cols: vs[0].cols}, NewHeader: merge.Header{Cols: vs[1].cols}}
	seen := [2]map[page]bool{{}, {}}
	var inPlaceChanges []merge.RowChange
	whole := pending
	if compareInPlace {
		var err error
		if inPlaceChanges, whole, err = inPlace(vs, pending, keyIdx, seen, &res.Stats); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
	}
	// The two versions decode at once, each on its own core.
	var rows [2][]merge.Row
	var errs [2]error
	var stats [2]merge.DiffStats
	var wg sync.WaitGroup
	for k, v := range vs {
		wg.Go(func() {
			rows[k], errs[k] = v.decode(whole[k], keyIdx[k], len(key) > 0, seen[k], &stats[k])
		})
	}
	wg.Wait()
	for k := range vs {
		if errs[k] != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, &merge.SideError{Side: k, Err: errs[k]}
		}
		res.Stats.BytesParsed += stats[k].BytesParsed
		res.Stats.RowsDecoded += stats[k].RowsDecoded
	}
	removed, changed, added, err := compare(rows, len(key) > 0)
	if err != nil {
		return nil, err
	}
	if err := checkCovered(vs, pending, [2][]merge.RowChange{removed, added}, keyIdx, seen, &res.Stats); err != nil {
		return nil, err
	}
	for _, v := range vs {
		res.Stats.BytesTotal += v.r.size()
		res.Stats.BytesRead += v.r.read
		res.Stats.Chunks += len(v.r.chunks)
		res.Stats.ChunksRead += v.r.nread
	}
	res.Changes = slices.Concat(removed, inPlaceChanges, changed, added)
	return res, nil
}

// pair pairs the segments of the two versions that hold the same rows
// and returns, for each version, the segments left unpaired, in file
// order. Segments are paired by the chunks holding their bytes, which
// reads nothing, then, byContent, among those left, by the bytes
// themselves, read: a chunk can hold several small pages, so pages both
// versions share are found even where the chunk holding one differs.
func pair(vs [2]*version, byContent bool) (pending [2][]segment) {
	pending = [2][]segment{vs[0].segs, vs[1].segs}
	pending = pairBy(pending, func(s *segment) [32]byte { return s.id })
	if !byContent {
		return pending
	}
	for k := range pending {
		for i := range pending[k] {
			pending[k][i].id = vs[k].contentID(&pending[k][i])
		}
	}
	return pairBy(pending, func(s *segment) [32]byte { return s.id })
}

// pairBy pairs segments of the two lists with one id and returns those
// left unpaired.
func pairBy(segs [2][]segment, id func(*segment) [32]byte) (left [2][]segment) {
	old := map[[32]byte][]int{}
	for i := range segs[0] {
		k := id(&segs[0][i])
		old[k] = append(old[k], i)
	}
	paired := make([]bool, len(segs[0]))
	for i := range segs[1] {
		k := id(&segs[1][i])
		if l := old[k]; len(l) > 0 {
			paired[l[0]] = true
			old[k] = l[1:]
			continue
		}
		left[1] = append(left[1], segs[1][i])
	}
	for i := range segs[0] {
		if !paired[i] {
			left[0] = append(left[0], segs[0][i])
		}
	}
	return left
}

// decode reads the rows of segs (in file order) and counts, in st, the
// page bytes it decoded and the rows.
func (v *version) decode(segs []segment, keyIdx []int, keyed bool, seen map[page]bool, st *merge.DiffStats) (out []merge.Row, err error) {
	err = v.each(segs, keyIdx, keyed, seen, st, func(r merge.Row) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// each calls fn with the rows of segs, in file order, as decode reads
// them.
func (v *version) each(segs []segment, keyIdx []int, keyed bool, seen map[page]bool, st *merge.DiffStats, fn func(merge.Row) error) (err error) {
	if len(segs) == 0 {
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			err = invalid("not valid Parquet: %v", p)
		}
	}()
	all := make([]int, len(v.f.Metadata().RowGroups[0].Columns))
	for i := range all {
		all[i] = i
	}
	for _, s := range segs {
		v.countPages(s, all, seen, st)
	}
	leafCounts := make([]int, len(v.fields))
	nLeaves := 0
	for i, f := range v.fields {
		leafCounts[i] = leaves(f)
		nLeaves += leafCounts[i]
	}
	groups := v.f.RowGroups()
	starts := v.groupStarts()
	var first int64
	var rows pq.Rows
	defer func() {
		if rows != nil {
			rows.Close()
		}
	}()
	at := -1
	buf := make([]pq.Row, 256)
	a := &assembler{}
	cols := make([][]pq.Value, nLeaves)
	for _, s := range segs {
		if s.group != at {
			if rows != nil {
				rows.Close()
			}
			at, first = s.group, starts[s.group]
			rows = groups[at].Rows()
		}
		if err := rows.SeekToRow(s.from); err != nil {
			return invalid("row group %d: seek to row %d: %v", s.group, s.from, err)
		}
		for left := s.to - s.from; left > 0; {
			n, err := rows.ReadRows(buf[:min(int64(len(buf)), left)])
			for _, pr := range buf[:n] {
				r, err := v.row(pr, a, cols, leafCounts, keyIdx, keyed)
				if err != nil {
					return invalid("row %d: %v", first+s.to-left+1, err)
				}
				r.Line = int(first + s.to - left + 1)
				v.noteKey(r.Key, cols)
				if err := fn(r); err != nil {
					return err
				}
				left--
			}
			if left > 0 && err != nil {
				return invalid("row group %d: %v", s.group, err)
			}
			if n == 0 && err == nil {
				return invalid("row group %d ends before row %d", s.group, s.to)
			}
		}
		st.RowsDecoded += s.to - s.from
	}
	return nil
}

// groupStarts are the file's row numbers (0-based) of each row group's
// first row.
func (v *version) groupStarts() []int64 {
	if v.starts == nil {
		groups := v.f.RowGroups()
		v.starts = make([]int64, len(groups))
		for g := 1; g < len(groups); g++ {
			v.starts[g] = v.starts[g-1] + groups[g-1].NumRows()
		}
	}
	return v.starts
}

// rowNumber is the 1-based number in the file of row r of row group g.
func (v *version) rowNumber(g int, r int64) int { return int(v.groupStarts()[g] + r + 1) }

// row converts one decoded row: a JSON value per top-level column.
func (v *version) row(pr pq.Row, a *assembler, cols [][]pq.Value, leafCounts, keyIdx []int, keyed bool) (merge.Row, error) {
	for i := range cols {
		cols[i] = cols[i][:0]
	}
	for _, val := range pr {
		c := val.Column()
		if c < 0 || c >= len(cols) {
			return merge.Row{}, fmt.Errorf("a value of column %d, the schema has %d", c, len(cols))
		}
		cols[c] = append(cols[c], val)
	}
	vals := make([]string, len(v.fields))
	at := 0
	for i, f := range v.fields {
		a.buf = a.buf[:0]
		if err := a.column(f, 0, 0, cols[at:at+leafCounts[i]]); err != nil {
			return merge.Row{}, fmt.Errorf("column %q: %w", f.Name(), err)
		}
		vals[i] = string(a.buf)
		at += leafCounts[i]
	}
	r := merge.Row{Cols: v.cols, Vals: vals}
	if keyed {
		parts := make([]string, len(keyIdx))
		for i, j := range keyIdx {
			parts[i] = jsonText(vals[j])
		}
		r.Key = strings.Join(parts, merge.KeySep)
	} else {
		r.Key = strings.Join(vals, merge.KeySep)
	}
	return r, nil
}

// page is a page of a version (p -1: the dictionary page; -2: the whole
// column chunk, without an offset index).
type page struct{ g, c, p int }

// countPages adds to st the bytes of the pages (and dictionaries) of the
// leaf columns cols that decoding s reads, each page once (seen).
func (v *version) countPages(s segment, cols []int, seen map[page]bool, st *merge.DiffStats) {
	md := v.f.Metadata()
	oi := v.f.OffsetIndexes()
	rg := &md.RowGroups[s.group]
	n := len(rg.Columns)
	for _, c := range cols {
		cm := &rg.Columns[c].MetaData
		if !s.indexed {
			if !seen[page{s.group, c, -2}] {
				seen[page{s.group, c, -2}] = true
				st.BytesParsed += cm.TotalCompressedSize
			}
			continue
		}
		l := oi[s.group*n+c].PageLocations
		if start := chunkStart(cm); start < l[0].Offset && !seen[page{s.group, c, -1}] {
			seen[page{s.group, c, -1}] = true
			st.BytesParsed += l[0].Offset - start
		}
		p := pageAt(l, s.from)
		if !seen[page{s.group, c, p}] {
			seen[page{s.group, c, p}] = true
			st.BytesParsed += int64(l[p].CompressedPageSize)
		}
	}
}

// compare matches the decoded rows of the two versions by key (by whole
// content without one) and lists the changes: removed rows in the old
// version's order, changed and added ones in the new version's.
func compare(rows [2][]merge.Row, keyed bool) (removed, changed, added []merge.RowChange, err error) {
	if keyed {
		old := make(map[string]int, len(rows[0]))
		for i := range rows[0] {
			k := rows[0][i].Key
			if _, dup := old[k]; dup {
				return nil, nil, nil, &merge.SideError{Side: 0, Err: &merge.DuplicateKeyError{Key: k}}
			}
			old[k] = i
		}
		seen := make(map[string]bool, len(rows[1]))
		for i := range rows[1] {
			n := &rows[1][i]
			if seen[n.Key] {
				return nil, nil, nil, &merge.SideError{Side: 1, Err: &merge.DuplicateKeyError{Key: n.Key}}
			}
			seen[n.Key] = true
			j, ok := old[n.Key]
			if !ok {
				added = append(added, merge.RowChange{Kind: merge.RowAdded, Key: n.Key, New: n})
				continue
			}
			o := &rows[0][j]
			if cols := changedColumns(o, n); len(cols) > 0 {
				changed = append(changed, merge.RowChange{Kind: merge.RowChanged, Key: n.Key, Old: o, New: n, Columns: cols})
			}
		}
		for i := range rows[0] {
			if o := &rows[0][i]; !seen[o.Key] {
				removed = append(removed, merge.RowChange{Kind: merge.RowRemoved, Key: o.Key, Old: o})
			}
		}
	} else {
		count := map[string]int{}
		for i := range rows[0] {
			count[rows[0][i].Key]++
		}
		for i := range rows[1] {
			n := &rows[1][i]
			if count[n.Key] > 0 {
				count[n.Key]--
				continue
			}
			added = append(added, merge.RowChange{Kind: merge.RowAdded, Key: n.Key, New: n})
		}
		for i := range rows[0] {
			if o := &rows[0][i]; count[o.Key] > 0 {
				count[o.Key]--
				removed = append(removed, merge.RowChange{Kind: merge.RowRemoved, Key: o.Key, Old: o})
			}
		}
	}
	return removed, changed, added, nil
}

// changedColumns lists the columns whose values differ (both rows have
// one schema).
func changedColumns(o, n *merge.Row) []string {
	var out []string
	for i := range n.Vals {
		if i >= len(o.Vals) || o.Vals[i] != n.Vals[i] {
			out = append(out, n.Cols[i])
		}
	}
	return out
}

// IsSchemaChange reports whether err is a diff of two schemas.
func IsSchemaChange(err error) (*SchemaChange, bool) {
	var sc *SchemaChange
	ok := errors.As(err, &sc)
	return sc, ok
}
