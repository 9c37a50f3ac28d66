package parquet

import (
	"context"
	"crypto/sha256"
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
}

// segment is a run of rows of one row group whose bytes, in every
// column, can be named without reading them: with an offset index, the
// rows between two consecutive page starts of any column (each column's
// rows there lie in one page); without one, the whole row group. Two
// segments, of two versions, with one id hold the same rows: the same
// bytes of every column (page and dictionary), and the same rows of them.
type segment struct {
	group    int
	from, to int64 // rows of the row group
	indexed  bool
	cols     []colBytes // per leaf column
	id       [32]byte   // of every column's bytes (by the chunks holding them, or read)
	colChunk [][32]byte // per leaf column, of the chunks holding its bytes (set by chunkID)
	colIDs   [][32]byte // per leaf column, of its bytes read (set by contentID)
}

// colBytes is what decides the values of one leaf column in a segment:
// the bytes (offset, length) they are decoded from, and the rest (codec,
// where the rows lie in the page).
type colBytes struct {
	ranges [][2]int64
	extra  []byte
}

// chunkID names s, and each of its columns (kept in s.colChunk), by the
// chunks holding their bytes: reading nothing.
func (v *version) chunkID(s *segment) [32]byte {
	all := sha256.New()
	s.colChunk = make([][32]byte, len(s.cols))
	var id []byte
	for i, c := range s.cols {
		id = append(id[:0], c.extra...)
		for _, r := range c.ranges {
			id = v.r.identity(id, r[0], r[1])
		}
		s.colChunk[i] = sha256.Sum256(id)
		all.Write(s.colChunk[i][:])
	}
	var out [32]byte
	all.Sum(out[:0])
	return out
}

// contentID names s by its bytes, read, column by column (kept in
// s.colIDs): for segments whose chunks differ but whose pages may not (a
// chunk holds several small pages).
func (v *version) contentID(s *segment) [32]byte {
	all := sha256.New()
	s.colIDs = make([][32]byte, len(s.cols))
	for i := range s.cols {
		s.colIDs[i] = v.colContent(s, i)
		all.Write(s.colIDs[i][:])
	}
	var id [32]byte
	all.Sum(id[:0])
	return id
}

// colContent names column c of s by its bytes, read; bytes that cannot be
// read are named by the chunks holding them.
func (v *version) colContent(s *segment, c int) [32]byte {
	h := sha256.New()
	h.Write(s.cols[c].extra)
	for _, r := range s.cols[c].ranges {
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
	md := f.Metadata()
	oi := f.OffsetIndexes()
	for g := range md.RowGroups {
		v.cutGroup(g, &md.RowGroups[g], oi)
	}
	return v, nil
}

// cutGroup cuts row group g into segments.
func (v *version) cutGroup(g int, rg *format.RowGroup, oi []format.OffsetIndex) {
	n := len(rg.Columns)
	locs := make([][]format.PageLocation, n)
	indexed := rg.NumRows > 0
	for c := range rg.Columns {
		if i := g*n + c; i < len(oi) && len(oi[i].PageLocations) > 0 && oi[i].PageLocations[0].FirstRowIndex == 0 {
			locs[c] = oi[i].PageLocations
		} else {
			indexed = false
		}
	}
	if !indexed {
		s := segment{group: g, from: 0, to: rg.NumRows}
		for c := range rg.Columns {
			md := &rg.Columns[c].MetaData
			s.cols = append(s.cols, colBytes{
				ranges: [][2]int64{{chunkStart(md), md.TotalCompressedSize}},
				extra:  fmt.Appendf(nil, "%d/%d;", md.Codec, rg.NumRows),
			})
		}
		s.id = v.chunkID(&s)
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
	for b := 0; b+1 < len(bounds); b++ {
		from, to := bounds[b], bounds[b+1]
		if from >= rg.NumRows {
			break
		}
		s := segment{group: g, from: from, to: to, indexed: true}
		for c := range rg.Columns {
			md := &rg.Columns[c].MetaData
			l := locs[c]
			p := pageAt(l, from)
			cb := colBytes{extra: fmt.Appendf(nil, "%d/@%d+%d;", md.Codec, from-l[p].FirstRowIndex, to-from)}
			if start := chunkStart(md); start < l[0].Offset {
				cb.ranges = append(cb.ranges, [2]int64{start, l[0].Offset - start}) // the dictionary page
			}
			cb.ranges = append(cb.ranges, [2]int64{l[p].Offset, int64(l[p].CompressedPageSize)})
			s.cols = append(s.cols, cb)
		}
		s.id = v.chunkID(&s)
		v.segs = append(v.segs, s)
	}
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
