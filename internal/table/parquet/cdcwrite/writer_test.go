package cdcwrite

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
	"github.com/zeebo/blake3"
)

func fileOf(t testing.TB, data []byte) *parquet.File {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestRoundTrip: the rows read back are the rows written, under the
// source's schema (logical types and repetition), in zstd pages in this
// writer's encodings, with statistics and a page index for every column chunk,
// several pages to a column chunk.
func TestRoundTrip(t *testing.T) {
	o := DefaultOptions()
	o.MinGroup, o.GroupBits, o.MaxGroup = 512<<10, 19, 4<<20
	rows := table(50_000, true)
	data := writeCDC(t, rows, o)
	got := readRows(t, data)
	if len(got) != len(rows) {
		t.Fatalf("read %d rows, wrote %d", len(got), len(rows))
	}
	s := parquet.SchemaOf(row{})
	for i := range rows {
		if !s.Deconstruct(nil, &got[i]).Equal(s.Deconstruct(nil, &rows[i])) {
			t.Fatalf("row %d: read %+v, wrote %+v", i, got[i], rows[i])
		}
	}
	f := fileOf(t, data)
	if want, have := parquet.SchemaOf(row{}).String(), f.Schema().String(); want != have {
		t.Fatalf("schema:\n%s\nwant:\n%s", have, want)
	}
	md := f.Metadata()
	if len(md.RowGroups) < 2 {
		t.Fatalf("%d row groups: the test wants several", len(md.RowGroups))
	}
	if len(f.ColumnIndexes()) != len(md.RowGroups)*len(md.RowGroups[0].Columns) || len(f.OffsetIndexes()) != len(f.ColumnIndexes()) {
		t.Fatalf("%d column indexes, %d offset indexes for %d column chunks", len(f.ColumnIndexes()), len(f.OffsetIndexes()), len(md.RowGroups)*len(md.RowGroups[0].Columns))
	}
	pages := 0
	for _, rg := range md.RowGroups {
		for _, cc := range rg.Columns {
			if cc.MetaData.Codec != format.Zstd {
				t.Fatalf("column %v: codec %v", cc.MetaData.PathInSchema, cc.MetaData.Codec)
			}
			// A dictionary where the source schema has one (city),
			// delta-encoded integers, and no other dictionary.
			col, enc := strings.Join(cc.MetaData.PathInSchema, "."), fmt.Sprint(cc.MetaData.Encoding)
			if hasDict := strings.Contains(enc, "DICT"); hasDict != (col == "city") {
				t.Fatalf("column %s: encodings %s", col, enc)
			}
			isInt := cc.MetaData.Type == format.Int32 || cc.MetaData.Type == format.Int64
			if isInt != strings.Contains(enc, "DELTA_BINARY_PACKED") {
				t.Fatalf("column %s: encodings %s", col, enc)
			}
			if cc.MetaData.Statistics.MaxValue == nil && cc.MetaData.Statistics.NullCount == 0 {
				t.Fatalf("column %v has no statistics", cc.MetaData.PathInSchema)
			}
		}
	}
	for _, oi := range f.OffsetIndexes() {
		pages += len(oi.PageLocations)
	}
	if pages < 3*len(md.RowGroups)*len(md.RowGroups[0].Columns) {
		t.Fatalf("%d pages in %d row groups: pages are not being cut", pages, len(md.RowGroups))
	}
}

// TestDeterministic: the same rows make the same bytes, however they are
// batched into WriteRows calls.
func TestDeterministic(t *testing.T) {
	rows := table(20_000, false)
	a := writeCDC(t, rows, DefaultOptions())
	s := parquet.SchemaOf(row{})
	var buf bytes.Buffer
	w, err := NewWriter(&buf, s, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	pr := toRows(s, rows)
	for i := 0; i < len(pr); {
		n := min(len(pr)-i, 1+i%97)
		if _, err := w.WriteRows(pr[i : i+n]); err != nil {
			t.Fatal(err)
		}
		i += n
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, buf.Bytes()) {
		t.Fatal("the same rows in other batches made other bytes")
	}
}

func TestOptionsValidate(t *testing.T) {
	bad := map[string]func(*Options){
		"min page 0":        func(o *Options) { o.MinPage = 0 },
		"max page ≤ min":    func(o *Options) { o.MaxPage = o.MinPage },
		"max group ≤ min":   func(o *Options) { o.MaxGroup = o.MinGroup },
		"no page bits":      func(o *Options) { o.PageBits = 0 },
		"too many row bits": func(o *Options) { o.GroupBits = 60 },
	}
	for name, f := range bad {
		o := DefaultOptions()
		f(&o)
		if _, err := NewWriter(&bytes.Buffer{}, parquet.SchemaOf(row{}), o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestGearGolden pins the gear table: changing it moves every page and
// row group boundary the writer makes.
func TestGearGolden(t *testing.T) {
	var b []byte
	for _, g := range gear {
		b = binary.LittleEndian.AppendUint64(b, g)
	}
	sum := blake3.Sum256(b)
	const want = "3e32ec349d970b15"
	if got := fmt.Sprintf("%x", sum[:8]); got != want {
		t.Fatalf("gear table hash %s, want %s", got, want)
	}
}
