package parquet

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/dxdata/dx/merge"
)

// version is one side of a diff: the file, opened through its chunks, and
// its rows cut into segments.
type version struct {
	r      *chunkReader
	f      *pq.File // nil: no file on this side
	fields []pq.Field
	cols   []string // top-level column names
	segs   []segment
	// keyLeaf are the key's leaf columns (nil for a nested key); keyVals
	// the values there of every decoded row, by row key.
	keyLeaf []int
	keyVals map[string][]pq.Value
	hashes  map[[2]int64][32]byte // of byte ranges read (rangeHash)
	starts  []int64               // see groupStarts
	buf     []byte
	// idBuf and digests are chunkID's scratch: a version is named on
	// one goroutine at a time.
	idBuf, digests []byte
}

// segment is a run of rows of one row group whose bytes, in every
// column, can be named without reading them: with an offset index, the
// rows between two consecutive page starts of any column (each column's
// rows there lie in one page); without one, the whole row group. Two
// segments, of two versions, with one id hold the same rows: the same
// bytes of every column (page and dictionary), and the same rows of them.
// A version has tens of thousands of segments: their columns' bytes are
// not kept but found again when needed (colsOf).
type segment struct {
	group    int
	from, to int64 // rows of the row group
	indexed  bool
	id       [32]byte // of every column's bytes (by the chunks holding them, or read)
}

// colBytes is what decides the values of one leaf column in a segment:
// the bytes (offset, length) they are decoded from, and the rest (codec,
// where the rows lie in the page).
type colBytes struct {
	ranges [][2]int64
	extra  []byte
}

// chunkID names a segment whose columns' bytes are cols by the chunks
// holding them: reading nothing.
func (v *version) chunkID(cols []colBytes) [32]byte {
	v.digests = v.digests[:0]
	for _, c := range cols {
		id := append(v.idBuf[:0], c.extra...)
		for _, r := range c.ranges {
			id = v.r.identity(id, r[0], r[1])
		}
		v.idBuf = id
		col := sha256.Sum256(id)
		v.digests = append(v.digests, col[:]...)
	}
	return sha256.Sum256(v.digests)
}

// contentID names s by its bytes, read, column by column: for segments
// whose chunks differ but whose pages may not (a chunk holds several
// small pages).
func (v *version) contentID(s *segment) [32]byte {
	all := sha256.New()
	for _, cb := range v.colsOf(s) {
		id := v.colContent(cb)
		all.Write(id[:])
	}
	var id [32]byte
	all.Sum(id[:0])
	return id
}

// colContent names a column's bytes by the bytes, read; bytes that cannot
// be read are named by the chunks holding them.
func (v *version) colContent(cb colBytes) [32]byte {
	h := sha256.New()
	h.Write(cb.extra)
	for _, r := range cb.ranges {
		sum, ok := v.rangeHash(r[0], r[1])
		if !ok {
			h.Write(v.r.identity(nil, r[0], r[1]))
			continue
		}
		h.Write(sum[:])
	}
	var id [32]byte
	h.Sum(id[:0])
	return id
}

// rangeHash is the hash of the bytes [off, off+n), read once (a page is
// named by several segments); false if they cannot be read.
func (v *version) rangeHash(off, n int64) ([32]byte, bool) {
	k := [2]int64{off, n}
	if sum, ok := v.hashes[k]; ok {
		return sum, true
	}
	if n < 0 || off < 0 || off+n > v.r.size() {
		return [32]byte{}, false
	}
	v.buf = slices.Grow(v.buf[:0], int(n))[:n]
	if _, err := v.r.ReadAt(v.buf, off); err != nil {
		return [32]byte{}, false
	}
	sum := sha256.Sum256(v.buf)
	if v.hashes == nil {
		v.hashes = map[[2]int64][32]byte{}
	}
	v.hashes[k] = sum
	return sum, true
}

// invalidError is a version that is not a Parquet table dx can read.
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return e.msg }

// Is makes every invalidError a merge.ErrInvalidRows.
func (e *invalidError) Is(target error) bool { return target == merge.ErrInvalidRows }

func invalid(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// openVersion reads the footer and page indexes of one version (they are
// the only chunks read) and cuts its rows into segments.
func openVersion(ctx context.Context, src merge.Source, pageIndex bool) (v *version, err error) {
	v = &version{r: newChunkReader(ctx, src)}
	if len(v.r.chunks) == 0 {
		return v, nil
	}
	defer func() {
		if p := recover(); p != nil {
			v, err = nil, invalid("not valid Parquet: %v", p)
		}
	}()
	f, err := pq.OpenFile(v.r, v.r.size(), pq.SkipBloomFilters(true), pq.SkipPageIndex(!pageIndex))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, invalid("not valid Parquet: %v", err)
	}
	v.f = f
	v.fields = f.Schema().Fields()
	for _, fl := range v.fields {
		v.cols = append(v.cols, fl.Name())
	}
	for g := range f.Metadata().RowGroups {
		v.cutGroup(g)
	}
	return v, nil
}

// cutGroup cuts row group g into segments and names each by the chunks
// holding its columns' bytes.
func (v *version) cutGroup(g int) {
	rg := &v.f.Metadata().RowGroups[g]
	locs, indexed := v.pageLocations(g)
	if !indexed {
		s := segment{group: g, from: 0, to: rg.NumRows}
		s.id = v.chunkID(v.colsOf(&s))
		v.segs = append(v.segs, s)
		return
	}
	var bounds []int64
	for _, l := range locs {
		for _, p := range l {
			bounds = append(bounds, p.FirstRowIndex)
		}
	}
	bounds = append(bounds, rg.NumRows)
	slices.Sort(bounds)
	bounds = slices.Compact(bounds)
	v.segs = slices.Grow(v.segs, len(bounds)-1)
	var sc colScratch
	for b := 0; b+1 < len(bounds); b++ {
		from, to := bounds[b], bounds[b+1]
		if from >= rg.NumRows {
			break
		}
		sc.reset()
		for c := range rg.Columns {
			sc.page(&rg.Columns[c].MetaData, locs[c], pageAt(locs[c], from), from, to)
		}
		v.segs = append(v.segs, segment{group: g, from: from, to: to, indexed: true, id: v.chunkID(sc.cols)})
	}
}

// pageLocations are the offset index's pages of each column of row group
// g, and whether every column has them (the group is then cut at pages).
func (v *version) pageLocations(g int) ([][]format.PageLocation, bool) {
	rg := &v.f.Metadata().RowGroups[g]
	locs := make([][]format.PageLocation, len(rg.Columns))
	indexed := rg.NumRows > 0
	for c := range rg.Columns {
		if locs[c] = v.columnPages(g, c); locs[c] == nil {
			indexed = false
		}
	}
	return locs, indexed
}

// columnPages are leaf column c's pages in row group g by the offset
// index; nil where it has none (the column chunk is then read whole).
func (v *version) columnPages(g, c int) []format.PageLocation {
	oi := v.f.OffsetIndexes()
	n := len(v.f.Metadata().RowGroups[g].Columns)
	if i := g*n + c; i < len(oi) && len(oi[i].PageLocations) > 0 && oi[i].PageLocations[0].FirstRowIndex == 0 {
		return oi[i].PageLocations
	}
	return nil
}

// colsOf finds the bytes of each column of s again, as cutGroup named
// them.
func (v *version) colsOf(s *segment) []colBytes {
	md := v.f.Metadata()
	rg := &md.RowGroups[s.group]
	var sc colScratch
	if !s.indexed {
		for c := range rg.Columns {
			sc.whole(&rg.Columns[c].MetaData, rg.NumRows)
		}
		return sc.cols
	}
	locs, _ := v.pageLocations(s.group)
	for c := range rg.Columns {
		sc.page(&rg.Columns[c].MetaData, locs[c], pageAt(locs[c], s.from), s.from, s.to)
	}
	return sc.cols
}

// colScratch builds the colBytes of one segment in arrays reused from
// segment to segment.
type colScratch struct {
	cols   []colBytes
	ranges [][2]int64
	extra  []byte
}

func (sc *colScratch) reset() {
	sc.cols, sc.ranges, sc.extra = sc.cols[:0], sc.ranges[:0], sc.extra[:0]
}

// whole adds a column read whole (no offset index): its chunk's bytes.
func (sc *colScratch) whole(md *format.ColumnMetaData, rows int64) {
	e, r := len(sc.extra), len(sc.ranges)
	sc.extra = appendExtra(sc.extra, extraWhole, md.Codec, rows, 0)
	sc.ranges = append(sc.ranges, [2]int64{chunkStart(md), md.TotalCompressedSize})
	sc.add(e, r)
}

// page adds a column whose rows [from, to) lie in page p of l: that page's
// bytes and its dictionary page's.
func (sc *colScratch) page(md *format.ColumnMetaData, l []format.PageLocation, p int, from, to int64) {
	e, r := len(sc.extra), len(sc.ranges)
	sc.extra = appendExtra(sc.extra, extraPage, md.Codec, from-l[p].FirstRowIndex, to-from)
	if start := chunkStart(md); start < l[0].Offset {
		sc.ranges = append(sc.ranges, [2]int64{start, l[0].Offset - start}) // the dictionary page
	}
	sc.ranges = append(sc.ranges, [2]int64{l[p].Offset, int64(l[p].CompressedPageSize)})
	sc.add(e, r)
}

// add appends the colBytes of the extra and ranges appended since e and
// r. Earlier colBytes keep pointing at the arrays they were made from
// when an append moves them.
func (sc *colScratch) add(e, r int) {
	sc.cols = append(sc.cols, colBytes{ranges: sc.ranges[r:len(sc.ranges):len(sc.ranges)], extra: sc.extra[e:len(sc.extra):len(sc.extra)]})
}

// The kinds of a column's bytes in a segment, in its extra: the whole
// column chunk (its rows given), or rows of one page (where they start
// in it and how many).
const (
	extraWhole byte = 'w'
	extraPage  byte = 'p'
)

// appendExtra appends a colBytes' extra: its kind, the codec and two
// numbers, each self-delimiting.
func appendExtra(dst []byte, kind byte, codec format.CompressionCodec, a, b int64) []byte {
	dst = append(dst, kind)
	dst = binary.AppendVarint(dst, int64(codec))
	dst = binary.AppendVarint(dst, a)
	return binary.AppendVarint(dst, b)
}

// pageAt is the index of the page holding row r.
func pageAt(l []format.PageLocation, r int64) int {
	i, _ := slices.BinarySearchFunc(l, r, func(p format.PageLocation, r int64) int {
		switch {
		case p.FirstRowIndex > r:
			return 1
		case p.FirstRowIndex < r:
			return -1
		}
		return 0
	})
	if i == len(l) || l[i].FirstRowIndex > r {
		i--
	}
	return i
}

// chunkStart is where a column chunk's bytes start: its dictionary page,
// if it has one, else its first data page.
func chunkStart(md *format.ColumnMetaData) int64 {
	if md.DictionaryPageOffset > 0 && md.DictionaryPageOffset < md.DataPageOffset {
		return md.DictionaryPageOffset
	}
	return md.DataPageOffset
}

// schemaText describes a version's columns, one per line, for comparing
// schemas and saying how they changed.
func (v *version) schemaText() []string {
	var out []string
	for _, f := range v.fields {
		s := strings.TrimSpace(pq.Group{f.Name(): f}.String()) // "message { ... }"
		s = strings.TrimSuffix(strings.TrimPrefix(s, "message {"), "}")
		out = append(out, strings.Join(strings.Fields(s), " "))
	}
	return out
}
