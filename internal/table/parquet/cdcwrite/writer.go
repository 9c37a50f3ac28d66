package cdcwrite

import (
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
)

// maxDictionary is the size past which a column's dictionary is given up
// for the rest of its row group.
const maxDictionary = 64 << 10

// Writer writes rows of one schema to a Parquet file, cutting pages and
// row groups where the content says (see the package doc).
type Writer struct {
	pw    *parquet.GenericWriter[any]
	pages []roller // one per leaf column
	group roller
	buf   []byte
}

// NewWriter returns a Writer of rows of schema (a file's, its logical
// types kept) to out, which Close finishes.
func NewWriter(out io.Writer, schema *parquet.Schema, o Options) (*Writer, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	s := writeSchema(schema)
	cfg, err := parquet.NewWriterConfig(
		s,
		parquet.Compression(&parquet.Zstd),
		// The writer's own page cut (at its buffer size) lies beyond
		// MaxPage, so only this package cuts pages.
		parquet.PageBufferSize(int(max(4*o.MaxPage, 1<<20))),
		parquet.DataPageStatistics(true),
		// A dictionary past 64 KiB (a column the source writer encoded
		// with one although its values are mostly distinct, as pyarrow
		// does by default) gives way to the plain encoding for the rest
		// of the row group.
		parquet.DictionaryMaxBytes(maxDictionary),
		// created_by stays parquet-go's: readers key their workarounds
		// for writers' bugs on it, and parquet-go encodes the pages.
	)
	if err != nil {
		return nil, fmt.Errorf("cdcwrite: %w", err)
	}
	w := &Writer{pw: parquet.NewGenericWriter[any](out, cfg)}
	w.pages = make([]roller, len(s.Columns()))
	for i := range w.pages {
		w.pages[i] = roller{mask: highBits(o.PageBits), min: o.MinPage, max: o.MaxPage}
	}
	w.group = roller{mask: highBits(o.GroupBits), min: o.MinGroup, max: o.MaxGroup}
	return w, nil
}

// Schema is the schema the file is written with.
func (w *Writer) Schema() *parquet.Schema { return w.pw.Schema() }

// WriteRows writes rows, each in the column order of the schema's leaves
// (as parquet.Schema.Deconstruct and the library's row readers give
// them).
func (w *Writer) WriteRows(rows []parquet.Row) (int, error) {
	start := 0
	for i, row := range rows {
		if !w.roll(row) {
			continue
		}
		n, err := w.pw.WriteRows(rows[start : i+1])
		if err != nil {
			return start + n, err
		}
		start = i + 1
		if err := w.cut(); err != nil {
			return start, err
		}
	}
	n, err := w.pw.WriteRows(rows[start:])
	return start + n, err
}

// roll feeds a row's values to the hashes and says whether a boundary is
// due after it.
func (w *Writer) roll(row parquet.Row) bool {
	for _, v := range row {
		c := v.Column()
		if c < 0 || c >= len(w.pages) {
			continue // the library rejects the row
		}
		p := &w.pages[c]
		lv := byte(v.DefinitionLevel()) | byte(v.RepetitionLevel())<<4
		p.feedByte(lv)
		w.group.feedByte(lv)
		if !v.IsNull() {
			w.buf = v.AppendBytes(w.buf[:0])
			p.feed(w.buf)
			w.group.feed(w.buf)
		}
	}
	if w.group.due() {
		return true
	}
	for i := range w.pages {
		if w.pages[i].due() {
			return true
		}
	}
	return false
}

// cut ends the row group, or the pages, that are due.
func (w *Writer) cut() error {
	if w.group.due() {
		w.group.reset()
		for i := range w.pages {
			w.pages[i].reset()
		}
		return w.pw.Flush()
	}
	cols := w.pw.ColumnWriters()
	for i := range w.pages {
		if w.pages[i].due() {
			w.pages[i].reset()
			if err := cols[i].Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Close writes what is buffered and the footer.
func (w *Writer) Close() error { return w.pw.Close() }
