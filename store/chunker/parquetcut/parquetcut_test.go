package parquetcut

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/zeebo/blake3"

	"github.com/dxdata/dx/store/chunker"
)

type row struct {
	ID    int64   `parquet:"id"`
	Name  string  `parquet:"name"`
	Score float64 `parquet:"score"`
	Tag   string  `parquet:"tag,dict"`
}

// rows returns n seeded rows with ids from first.
func rows(seed uint64, first, n int) []row {
	rng := rand.New(rand.NewPCG(seed, uint64(first)))
	out := make([]row, n)
	for i := range out {
		out[i] = row{
			ID:    int64(first + i),
			Name:  fmt.Sprintf("name-%d-%x", first+i, rng.Uint64()),
			Score: rng.Float64(),
			Tag:   []string{"red", "green", "blue"}[rng.IntN(3)],
		}
	}
	return out
}

// writeParquet writes rows with parquet-go (zstd), groupRows rows to a row
// group and pages of about pageBytes before compression.
func writeParquet(t testing.TB, rs []row, groupRows int64, pageBytes int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[row](&buf, parquet.Compression(&parquet.Zstd),
		parquet.MaxRowsPerRowGroup(groupRows), parquet.PageBufferSize(pageBytes))
	if _, err := w.Write(rs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func binaryOptions() chunker.Options { return chunker.DefaultOptions().ForMode(chunker.Binary) }

// smallOptions make groups of small pages end early.
func smallOptions() chunker.Options { return chunker.Options{Min: 64, Avg: 128, Max: 64 << 10} }

// pageStarts returns, read by the Parquet library, where each page starts
// (dictionary pages from the column metadata, the others from the offset
// index), where each column chunk ends and where the footer starts.
func pageStarts(t *testing.T, data []byte) (starts map[int64]bool, chunkEnds map[int64]bool, footer int64) {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	starts, chunkEnds = map[int64]bool{}, map[int64]bool{}
	oi := f.OffsetIndexes()
	k := 0
	for _, rg := range f.Metadata().RowGroups {
		for _, cc := range rg.Columns {
			md := cc.MetaData
			start := md.DataPageOffset
			if md.DictionaryPageOffset > 0 && md.DictionaryPageOffset < start {
				start = md.DictionaryPageOffset
				starts[start] = true
			}
			chunkEnds[start+md.TotalCompressedSize] = true
			for _, loc := range oi[k].PageLocations {
				starts[loc.Offset] = true
			}
			k++
		}
	}
	if k == 0 || len(oi) != k {
		t.Fatalf("%d offset indexes for %d column chunks", len(oi), k)
	}
	footerLen := int64(uint32(data[len(data)-8]) | uint32(data[len(data)-7])<<8 | uint32(data[len(data)-6])<<16 | uint32(data[len(data)-5])<<24)
	return starts, chunkEnds, int64(len(data)) - 8 - footerLen
}

// cut returns the chunks of data by its plan.
func cut(t testing.TB, data []byte, spans []Span, o chunker.Options) [][]byte {
	t.Helper()
	ck, err := chunker.New(nil, o)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCutter(bytes.NewReader(data), spans, ck)
	var out [][]byte
	for {
		b, err := c.Next(nil)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
}

// checkCover fails unless spans tile [0, size) and whole spans fit a chunk.
func checkCover(t testing.TB, spans []Span, size int64, o chunker.Options) {
	t.Helper()
	pos := int64(0)
	for i, s := range spans {
		if s.Off != pos || s.Len <= 0 {
			t.Fatalf("span %d is %+v, want one at %d", i, s, pos)
		}
		if !s.CDC && s.Len > int64(o.Max) {
			t.Fatalf("span %d (%+v) is one chunk above the maximum %d", i, s, o.Max)
		}
		pos += s.Len
	}
	if pos != size {
		t.Fatalf("spans end at %d of %d bytes", pos, size)
	}
}

func TestPlanAlignsToPages(t *testing.T) {
	data := writeParquet(t, rows(1, 0, 20000), 5000, 16<<10)
	for name, o := range map[string]chunker.Options{"default": binaryOptions(), "small": smallOptions()} {
		t.Run(name, func(t *testing.T) {
			spans, err := Plan(bytes.NewReader(data), int64(len(data)), o)
			if err != nil {
				t.Fatal(err)
			}
			checkCover(t, spans, int64(len(data)), o)
			starts, chunkEnds, footer := pageStarts(t, data)
			if last := spans[len(spans)-1]; last.Off != footer || last.CDC {
				t.Fatalf("last span %+v, want the footer at %d as one chunk", last, footer)
			}
			pagesCut := 0
			for _, s := range spans[1:] {
				if !starts[s.Off] && !chunkEnds[s.Off] && s.Off != footer {
					t.Fatalf("span %+v starts at no page, column chunk end or footer", s)
				}
				pagesCut++
			}
			// A cut after every page would be len(starts) spans; the
			// default sizes group the small pages, the small ones less.
			t.Logf("%d pages, %d spans", len(starts), len(spans))
			if pagesCut < 4*len(data)/(o.Max+1) {
				t.Fatalf("only %d spans for %d bytes", len(spans), len(data))
			}
			var joined []byte
			for _, c := range cut(t, data, spans, o) {
				if len(c) > o.Max {
					t.Fatalf("chunk of %d bytes above the maximum %d", len(c), o.Max)
				}
				joined = append(joined, c...)
			}
			if !bytes.Equal(joined, data) {
				t.Fatal("chunks do not concatenate to the file")
			}
		})
	}
}

// TestLargePagesCutInside: pages above the maximum chunk are cut by FastCDC
// and still tile the file.
func TestLargePagesCutInside(t *testing.T) {
	data := writeParquet(t, rows(2, 0, 30000), 30000, 4<<20)
	o := chunker.Options{Min: 1 << 10, Avg: 4 << 10, Max: 16 << 10}
	spans, err := Plan(bytes.NewReader(data), int64(len(data)), o)
	if err != nil {
		t.Fatal(err)
	}
	checkCover(t, spans, int64(len(data)), o)
	if !slices.ContainsFunc(spans, func(s Span) bool { return s.CDC && s.Len > int64(o.Max) }) {
		t.Fatal("no page was large enough to be cut inside: the test is not testing that")
	}
	var joined []byte
	for _, c := range cut(t, data, spans, o) {
		if len(c) > o.Max {
			t.Fatalf("chunk of %d bytes above the maximum", len(c))
		}
		joined = append(joined, c...)
	}
	if !bytes.Equal(joined, data) {
		t.Fatal("chunks do not concatenate to the file")
	}
}

// TestMidSizePagesAlone: every page between Min/soloDiv and Avg bytes is a
// chunk of its own, while pages below that are grouped.
func TestMidSizePagesAlone(t *testing.T) {
	data := writeParquet(t, rows(4, 0, 40000), 40000, 8<<10)
	o := binaryOptions()
	spans, err := Plan(bytes.NewReader(data), int64(len(data)), o)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	span := map[int64]Span{}
	for _, s := range spans {
		span[s.Off] = s
	}
	alone, grouped := 0, 0
	for _, oi := range f.OffsetIndexes() {
		for _, p := range oi.PageLocations {
			n := int64(p.CompressedPageSize)
			s, starts := span[p.Offset]
			switch {
			case n > int64(o.Avg):
			case n >= int64(o.Min/soloDiv):
				alone++
				if !starts || s.Len != n || s.CDC {
					t.Fatalf("page at %d of %d bytes is not a chunk of its own: %+v (found: %v)", p.Offset, n, s, starts)
				}
			default:
				if !starts || s.Len > n {
					grouped++
				}
			}
		}
	}
	if alone == 0 || grouped == 0 {
		t.Fatalf("%d pages alone, %d grouped: the test wants both", alone, grouped)
	}
	t.Logf("%d pages alone, %d grouped", alone, grouped)
}

// TestChangedRowGroupSharesTheRest: after one row changes, only the chunks
// of its row group, the page indexes and the footer are new.
func TestChangedRowGroupSharesTheRest(t *testing.T) {
	const groupRows = 4000
	rs := rows(3, 0, 10*groupRows)
	v1 := writeParquet(t, rs, groupRows, 32<<10)
	rs[6*groupRows+17].Name = "changed"
	rs[6*groupRows+17].Score = -1
	v2 := writeParquet(t, rs, groupRows, 32<<10)
	fresh := newBytes(t, v1, v2, binaryOptions())
	f, err := parquet.OpenFile(bytes.NewReader(v2), int64(len(v2)))
	if err != nil {
		t.Fatal(err)
	}
	md := f.Metadata()
	// The name and score columns of row group 6 changed; its id and tag
	// columns and every other row group did not.
	var changed, chunksEnd int64
	for i, rg := range md.RowGroups {
		for j, cc := range rg.Columns {
			if i == 6 && (j == 1 || j == 2) {
				changed += cc.MetaData.TotalCompressedSize
			}
			start := cc.MetaData.DataPageOffset
			if d := cc.MetaData.DictionaryPageOffset; d > 0 && d < start {
				start = d
			}
			chunksEnd = max(chunksEnd, start+cc.MetaData.TotalCompressedSize)
		}
	}
	tail := int64(len(v2)) - chunksEnd // page indexes and footer
	t.Logf("v2 %d bytes, %d new; changed column chunks %d, indexes and footer %d", len(v2), fresh, changed, tail)
	if fresh == 0 || fresh > changed+tail {
		t.Fatalf("%d new bytes, want some and at most %d", fresh, changed+tail)
	}
}

// newBytes returns the bytes of v2's chunks that are not chunks of v1.
func newBytes(t testing.TB, v1, v2 []byte, o chunker.Options) int64 {
	t.Helper()
	have := map[[32]byte]bool{}
	for _, c := range chunksOf(t, v1, o) {
		have[blake3.Sum256(c)] = true
	}
	var fresh int64
	for _, c := range chunksOf(t, v2, o) {
		if !have[blake3.Sum256(c)] {
			fresh += int64(len(c))
		}
	}
	return fresh
}

func chunksOf(t testing.TB, data []byte, o chunker.Options) [][]byte {
	t.Helper()
	spans, err := Plan(bytes.NewReader(data), int64(len(data)), o)
	if err != nil {
		t.Fatal(err)
	}
	return cut(t, data, spans, o)
}

func TestNotParquet(t *testing.T) {
	good := writeParquet(t, rows(4, 0, 3000), 1000, 8<<10)
	size := len(good)
	_, _, footer := pageStarts(t, good)
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	cases := map[string][]byte{
		"empty":            {},
		"magic only":       []byte("PAR1PAR1"),
		"truncated":        good[:size/2],
		"truncated footer": good[:size-1],
		"no head magic":    edit(func(b []byte) []byte { b[0] = 'X'; return b }),
		"footer length too big": edit(func(b []byte) []byte {
			b[size-8], b[size-7], b[size-6], b[size-5] = 0xff, 0xff, 0xff, 0x0f
			return b
		}),
		"garbage footer": edit(func(b []byte) []byte {
			for i := footer; i < int64(size-8); i++ {
				b[i] = 0xff
			}
			return b
		}),
		"garbage page header": edit(func(b []byte) []byte {
			for i := 4; i < 40; i++ {
				b[i] = 0xff
			}
			return b
		}),
		"text": []byte("id,name\n1,a\n"),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Plan(bytes.NewReader(data), int64(len(data)), binaryOptions())
			if !errors.Is(err, ErrNotParquet) {
				t.Fatalf("Plan: %v, want ErrNotParquet", err)
			}
		})
	}
	if !Sniff(bytes.NewReader(good), int64(size)) || Sniff(bytes.NewReader(cases["text"]), 12) {
		t.Fatal("Sniff does not tell Parquet by its magic")
	}
}

// TestPlanDeterministic: the same bytes give the same spans.
func TestPlanDeterministic(t *testing.T) {
	data := writeParquet(t, rows(5, 0, 5000), 2000, 8<<10)
	a, err := Plan(bytes.NewReader(data), int64(len(data)), smallOptions())
	if err != nil {
		t.Fatal(err)
	}
	b, err := Plan(bytes.NewReader(bytes.Clone(data)), int64(len(data)), smallOptions())
	if err != nil || !slices.Equal(a, b) {
		t.Fatalf("two plans of the same bytes differ (%v)", err)
	}
}

func FuzzPlan(f *testing.F) {
	f.Add(writeParquet(f, rows(6, 0, 300), 100, 1<<10), uint16(0), byte(0))
	f.Add(writeParquet(f, rows(7, 0, 50), 50, 1<<10), uint16(9), byte(0xff))
	f.Add([]byte("PAR1\x15\x00PAR1"), uint16(0), byte(0))
	var rich bytes.Buffer
	w := parquet.NewGenericWriter[richRow](&rich, parquet.DataPageVersion(2), parquet.PageBufferSize(1<<10), parquet.MaxRowsPerRowGroup(60))
	if _, err := w.Write(richRows(150)); err != nil || w.Close() != nil {
		f.Fatal("writing the rich seed")
	}
	f.Add(rich.Bytes(), uint16(77), byte(0x40))
	o := chunker.Options{Min: 64, Avg: 256, Max: 1024}
	f.Fuzz(func(t *testing.T, data []byte, at uint16, val byte) {
		if len(data) > 0 {
			data[int(at)%len(data)] ^= val
		}
		spans, err := Plan(bytes.NewReader(data), int64(len(data)), o)
		if err != nil {
			if !errors.Is(err, ErrNotParquet) {
				t.Fatalf("error %v does not wrap ErrNotParquet", err)
			}
			return
		}
		checkCover(t, spans, int64(len(data)), o)
		var joined []byte
		for _, c := range cut(t, data, spans, o) {
			joined = append(joined, c...)
		}
		if !bytes.Equal(joined, data) {
			t.Fatal("chunks do not concatenate to the input")
		}
	})
}

// TestMovedPagesShared: pages that move (a row group removed before them)
// are the same chunks at their new offsets.
func TestMovedPagesShared(t *testing.T) {
	const groupRows = 3000
	rs := rows(8, 0, 8*groupRows)
	v1 := writeParquet(t, rs, groupRows, 16<<10)
	v2 := writeParquet(t, rs[groupRows:], groupRows, 16<<10)
	fresh := newBytes(t, v1, v2, binaryOptions())
	_, chunkEnds, footer := pageStarts(t, v2)
	var chunksEnd int64
	for e := range chunkEnds {
		chunksEnd = max(chunksEnd, e)
	}
	tail := int64(len(v2)) - chunksEnd
	t.Logf("v2 %d bytes at new offsets, %d new; indexes and footer %d (footer at %d)", len(v2), fresh, tail, footer)
	if fresh > tail {
		t.Fatalf("%d new bytes, want at most the %d of page indexes and footer", fresh, tail)
	}
}

// richRow has logical types, nulls, a list and a nested struct.
type richRow struct {
	ID      int64     `parquet:"id"`
	At      time.Time `parquet:"at,timestamp(microsecond)"`
	Day     int32     `parquet:"day,date"`
	Price   int64     `parquet:"price,decimal(2:18)"`
	Comment *string   `parquet:"comment,optional"`
	Tags    []string  `parquet:"tags,list"`
	Where   struct {
		City string  `parquet:"city,dict"`
		Lat  float64 `parquet:"lat"`
	} `parquet:"where"`
}

func richRows(n int) []richRow {
	rng := rand.New(rand.NewPCG(9, 9))
	out := make([]richRow, n)
	for i := range out {
		r := &out[i]
		r.ID, r.At, r.Day, r.Price = int64(i), time.Unix(1.7e9+int64(i)*61, 0).UTC(), int32(19000+i/100), rng.Int64N(1e8)
		if i%3 != 0 {
			c := fmt.Sprintf("comment %d %x", i, rng.Uint32())
			r.Comment = &c
		}
		for range rng.IntN(4) {
			r.Tags = append(r.Tags, []string{"a", "bb", "ccc"}[rng.IntN(3)])
		}
		r.Where.City, r.Where.Lat = []string{"Oslo", "Lima", "Pune"}[rng.IntN(3)], rng.Float64()
	}
	return out
}

// TestPlanWriters: files of other page versions, codecs, row group sizes
// and column types are cut at their pages as well.
func TestPlanWriters(t *testing.T) {
	cases := map[string][]parquet.WriterOption{
		"v2 pages zstd":       {parquet.DataPageVersion(2), parquet.Compression(&parquet.Zstd)},
		"v1 pages snappy":     {parquet.DataPageVersion(1), parquet.Compression(&parquet.Snappy)},
		"uncompressed":        {parquet.Compression(&parquet.Uncompressed)},
		"small row groups":    {parquet.Compression(&parquet.Zstd), parquet.MaxRowsPerRowGroup(700)},
		"one big row group":   {parquet.Compression(&parquet.Zstd), parquet.PageBufferSize(1 << 20)},
		"no statistics, gzip": {parquet.Compression(&parquet.Gzip), parquet.DataPageStatistics(false)},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			w := parquet.NewGenericWriter[richRow](&buf, append([]parquet.WriterOption{parquet.PageBufferSize(8 << 10)}, opts...)...)
			if _, err := w.Write(richRows(20000)); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			data := buf.Bytes()
			o := smallOptions()
			spans, err := Plan(bytes.NewReader(data), int64(len(data)), o)
			if err != nil {
				t.Fatal(err)
			}
			checkCover(t, spans, int64(len(data)), o)
			starts, chunkEnds, footer := pageStarts(t, data)
			spanStarts := map[int64]bool{}
			for _, s := range spans[1:] {
				if !starts[s.Off] && !chunkEnds[s.Off] && s.Off != footer {
					t.Fatalf("span %+v starts at no page, column chunk end or footer", s)
				}
				spanStarts[s.Off] = true
			}
			// Groups of pages never cross column chunks: each starts a span.
			f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			for _, rg := range f.Metadata().RowGroups {
				for _, cc := range rg.Columns {
					start := cc.MetaData.DataPageOffset
					if d := cc.MetaData.DictionaryPageOffset; d > 0 && d < start {
						start = d
					}
					if !spanStarts[start] {
						t.Fatalf("column chunk %v at %d starts no span", cc.MetaData.PathInSchema, start)
					}
				}
			}
			var joined []byte
			for _, c := range cut(t, data, spans, o) {
				joined = append(joined, c...)
			}
			if !bytes.Equal(joined, data) {
				t.Fatal("chunks do not concatenate to the file")
			}
		})
	}
}

// countingReader counts the reads made of a file.
type countingReader struct {
	r     io.ReaderAt
	reads int
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.reads++
	return c.r.ReadAt(p, off)
}

// TestSmallPagesReadInBlocks: a file of many small pages is planned and cut
// reading blocks, not a read a page, with the same chunks as read one by
// one.
func TestSmallPagesReadInBlocks(t *testing.T) {
	data := writeParquet(t, rows(5, 0, 60000), 60000, 2<<10)
	o := binaryOptions()
	cr := &countingReader{r: bytes.NewReader(data)}
	spans, err := Plan(cr, int64(len(data)), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(spans) < 50 {
		t.Fatalf("%d spans: want many small pages", len(spans))
	}
	ck, err := chunker.New(nil, o)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCutter(cr, spans, ck)
	var got []byte
	n := 0
	for {
		b, err := c.Next(nil)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b...)
		n++
	}
	if !bytes.Equal(got, data) {
		t.Fatal("the chunks do not make the file")
	}
	if cr.reads*4 > len(spans) { // a read a page and a span before
		t.Fatalf("%d reads to plan and cut %d bytes into %d chunks (%d spans)", cr.reads, len(data), n, len(spans))
	}
	t.Logf("%d reads for %d chunks of %d bytes", cr.reads, n, len(data))
}
