package check

import (
	"context"
	"fmt"
	"hash/maphash"
	"slices"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/contract"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
)

// Columns other than the key may be unique (a data contract's rule): no
// two rows hold the same value, nulls aside. A whole version is checked
// as keys are, by hashes and then by the values where two hashes meet. A
// change is checked by looking up each value it brings in the rows the
// old version keeps, reading only the chunks whose range of the column's
// values could hold one: ranges the caller keeps (ValueRanges), learned
// whenever a check reads a chunk whole.

// UniqueRules are Rules with unique columns (after Header).
type UniqueRules interface {
	UniqueColumns() []string
}

// ValueRanges keep, for a column and a chunk that starts and ends at row
// boundaries, the least and greatest value (in byte order) of the rows in
// it: the chunk's bytes alone decide them.
type ValueRanges interface {
	// Get returns the chunk's range of col, if known; none: the chunk
	// has no value (but nulls) in col.
	Get(col string, chunk dag.ID) (r ValueRange, ok bool)
	Put(rs []RangeEntry)
}

// RangeEntry is a column's range in a chunk, to keep.
type RangeEntry struct {
	Col   string
	Chunk dag.ID
	Range ValueRange
}

// ValueRange is the least and greatest value of a column in a chunk.
type ValueRange struct {
	Lo, Hi string
	Some   bool // the chunk has a value in the column
}

func (r *ValueRange) add(v string) {
	if !r.Some || v < r.Lo {
		r.Lo = v
	}
	if !r.Some || v > r.Hi {
		r.Hi = v
	}
	r.Some = true
}

// uniqueColumns are v's unique columns, if any.
func uniqueColumns(v Version) []string {
	if u, ok := v.Rules.(UniqueRules); ok {
		return u.UniqueColumns()
	}
	return nil
}

// uniqueValue is a row's value of col, unless it is null.
func uniqueValue(t *table.Reader, r *merge.Row, col string) (string, bool) {
	v, ok := r.Value(col)
	if !ok || v == "" || t.Spec().Format == table.JSONL && v == "null" {
		return "", false
	}
	return v, true
}

// spanValues are a span's unique columns' values: hashed in row order,
// and the range of each chunk that starts and ends at a row boundary.
type spanValues struct {
	hashes [][]uint64           // per column
	ranges map[int][]ValueRange // chunk index → per column
}

// valueCollector gathers a span's spanValues as its rows are parsed.
type valueCollector struct {
	t      *table.Reader
	cols   []string
	seed   maphash.Seed
	starts []int64 // offset in the parsed bytes of each chunk of the span, and the end
	first  int     // the span's first chunk
	at     int     // the chunk of the span the last row started in: rows come in order
	sure   []bool  // per chunk of the span: both its ends are row boundaries
	out    spanValues
}

func newValueCollector(t *table.Reader, v Version, cols []string, seed maphash.Seed, s span, dataStart int64) *valueCollector {
	c := &valueCollector{t: t, cols: cols, seed: seed, first: s.from, out: spanValues{hashes: make([][]uint64, len(cols)), ranges: map[int][]ValueRange{}}}
	chunks := v.Source.Chunks()
	var off int64
	for i := s.from; i < s.to; i++ {
		c.starts = append(c.starts, off-dataStart)
		off += int64(chunks[i].Len)
		startSure := i == s.from || v.Cut.RowEnd(v.Source, chunks, i-1)
		endSure := i == s.to-1 || v.Cut.RowEnd(v.Source, chunks, i)
		sure := startSure && endSure && v.Cut.Aligned
		c.sure = append(c.sure, sure)
		if sure {
			c.out.ranges[i] = make([]ValueRange, len(cols))
		}
	}
	c.starts = append(c.starts, off-dataStart)
	return c
}

func (c *valueCollector) row(r *merge.Row) {
	for c.at+1 < len(c.sure) && c.starts[c.at+1] <= r.Off {
		c.at++
	}
	k := c.at
	for i, col := range c.cols {
		v, ok := uniqueValue(c.t, r, col)
		if !ok {
			continue
		}
		c.out.hashes[i] = append(c.out.hashes[i], maphash.String(c.seed, v))
		if c.sure[k] {
			c.out.ranges[c.first+k][i].add(v)
		}
	}
}

// keepRanges records the ranges a whole pass learned.
func keepRanges(v Version, cols []string, res []spanValues) {
	if v.Ranges == nil {
		return
	}
	chunks := v.Source.Chunks()
	var out []RangeEntry
	for _, sv := range res {
		for ci, rs := range sv.ranges {
			for i, col := range cols {
				out = append(out, RangeEntry{col, chunks[ci].ID, rs[i]})
			}
		}
	}
	if len(out) > 0 {
		v.Ranges.Put(out)
	}
}

// fullUnique finds, in a version whose spans all parsed, the rows whose
// value of a unique column an earlier row has: as (absolute line,
// problem), in line order.
func fullUnique(ctx context.Context, t *table.Reader, v Version, h merge.Header, hdrLen int, ss []span, res []spanResult, cols []string, seed maphash.Seed) ([]hit, error) {
	dup := make([]map[uint64]bool, len(cols))
	any := false
	for i := range cols {
		var all []uint64
		for r := range res {
			all = append(all, res[r].values.hashes[i]...)
		}
		slices.Sort(all)
		dup[i] = map[uint64]bool{}
		for j := 1; j < len(all); j++ {
			if all[j] == all[j-1] {
				dup[i][all[j]], any = true, true
			}
		}
	}
	if !any {
		return nil, nil
	}
	// Equal hashes: parse the spans that hold one and compare values.
	seen := make([]map[string]int, len(cols)) // value → line
	for i := range seen {
		seen[i] = map[string]int{}
	}
	var hits []hit
	base := 0
	for si, s := range ss {
		r := &res[si]
		lineBase := base + r.hdrLines
		base += r.newlines
		holds := false
		for i := range cols {
			holds = holds || slices.ContainsFunc(r.values.hashes[i], func(x uint64) bool { return dup[i][x] })
		}
		if !holds {
			continue
		}
		_, data, err := readSpan(ctx, v, s, hdrLen, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v.Path, err)
		}
		err = t.Parse(h, data, s.to == len(v.Source.Chunks()), func(row merge.Row) error {
			for i, col := range cols {
				val, ok := uniqueValue(t, &row, col)
				if !ok || !dup[i][maphash.String(seed, val)] {
					continue
				}
				line := lineBase + row.Line
				if at, ok := seen[i][val]; ok {
					hits = append(hits, hit{line, contract.Problem{Column: col, Rule: fmt.Sprintf("unique (first on line %d)", at), Value: val}, -1})
				} else {
					seen[i][val] = line
				}
			}
			return nil
		})
		if err != nil {
			return nil, violation(v.Path, lineBase, err)
		}
	}
	return hits, nil
}

// changedUnique checks the values of unique columns that a change brings
// (its added and changed rows): none twice among them, and none in a row
// of the old version that the new one keeps unchanged. It returns the
// rows that break it, by their offset in the new version.
func changedUnique(ctx context.Context, t *table.Reader, old, new Version, rd *merge.RowDiff) ([]offHit, error) {
	cols := uniqueColumns(new)
	if len(cols) == 0 {
		return nil, nil
	}
	var hits []offHit
	brought := make([]map[string]int64, len(cols)) // value → offset of its row in new
	for i := range brought {
		brought[i] = map[string]int64{}
	}
	gone := map[string]bool{} // keys of the old rows the change replaces or removes
	for _, c := range rd.Changes {
		if c.Old != nil {
			gone[c.Old.Key] = true
		}
		if c.New == nil {
			continue
		}
		for i, col := range cols {
			v, ok := uniqueValue(t, c.New, col)
			if !ok {
				continue
			}
			if _, twice := brought[i][v]; twice {
				hits = append(hits, offHit{c.New.Off, contract.Problem{Column: col, Rule: "unique", Value: v}})
				continue
			}
			brought[i][v] = c.New.Off
		}
	}
	found, err := lookupValues(ctx, t, old, rd.OldHeader, cols, brought, gone)
	if err != nil {
		return nil, err
	}
	for i, vals := range found {
		for _, v := range vals {
			hits = append(hits, offHit{brought[i][v], contract.Problem{Column: cols[i], Rule: "unique (the table has it already)", Value: v}})
		}
	}
	return hits, nil
}

// offHit is a broken rule at a row's offset in its file.
type offHit struct {
	off int64
	p   contract.Problem
}

// lookupValues finds which values of want each column of the old version
// holds in a row whose key is not gone, reading the spans with a chunk
// whose range of the column could hold one (or is not known), and
// learning the ranges of the chunks it reads.
func lookupValues(ctx context.Context, t *table.Reader, v Version, h merge.Header, cols []string, want []map[string]int64, gone map[string]bool) ([][]string, error) {
	found := make([][]string, len(cols))
	chunks := v.Source.Chunks()
	if len(chunks) == 0 {
		return found, nil
	}
	sorted := make([][]string, len(cols))
	for i := range cols {
		for val := range want[i] {
			sorted[i] = append(sorted[i], val)
		}
		slices.Sort(sorted[i])
	}
	candidate := func(c dag.ChunkRef) bool {
		for i, col := range cols {
			if len(sorted[i]) == 0 {
				continue
			}
			if v.Ranges == nil {
				return true
			}
			r, ok := v.Ranges.Get(col, c.ID)
			if !ok {
				return true
			}
			if !r.Some {
				continue
			}
			j, _ := slices.BinarySearch(sorted[i], r.Lo)
			if j < len(sorted[i]) && sorted[i][j] <= r.Hi {
				return true
			}
		}
		return false
	}
	hdrLen := -1
	seed := maphash.MakeSeed()
	var learned []spanValues
	seen := make([]map[string]bool, len(cols))
	for i := range seen {
		seen[i] = map[string]bool{}
	}
	for _, s := range spans(v.Source, v.Cut) {
		if !slices.ContainsFunc(chunks[s.from:s.to], candidate) {
			continue
		}
		if hdrLen < 0 {
			_, n, err := header(ctx, t, v.Source)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", v.Path, err)
			}
			hdrLen = n
		}
		whole, data, err := readSpan(ctx, v, s, hdrLen, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v.Path, err)
		}
		dataStart := int64(len(whole) - len(data))
		vc := newValueCollector(t, v, cols, seed, s, dataStart)
		err = t.Parse(h, data, s.to == len(chunks), func(row merge.Row) error {
			vc.row(&row)
			if gone[row.Key] {
				return nil
			}
			for i, col := range cols {
				if val, ok := uniqueValue(t, &row, col); ok {
					if _, hit := want[i][val]; hit && !seen[i][val] {
						seen[i][val] = true
						found[i] = append(found[i], val)
					}
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s: old version: %w", v.Path, err)
		}
		learned = append(learned, vc.out)
	}
	keepRanges(v, cols, learned)
	return found, nil
}
