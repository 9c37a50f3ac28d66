package cdcwrite

import (
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/format"
)

// writeSchema is s (names, types, logical types, repetition) with the
// encodings this writer uses on its leaves and no codec (so the writer's,
// zstd): a dictionary where s has one (a schema read from a file carries
// the file's encodings; the source writer found the column repetitive),
// DELTA_BINARY_PACKED for integers, and the library's defaults otherwise
// (DELTA_LENGTH_BYTE_ARRAY for byte arrays, PLAIN for the rest). Each of
// those but the dictionary is local to its page.
func writeSchema(s *parquet.Schema) *parquet.Schema {
	return parquet.NewSchema(s.Name(), writeGroup{s})
}

// writeGroup is the root: its fields wrapped.
type writeGroup struct{ parquet.Node }

func (g writeGroup) Fields() []parquet.Field { return writeFields(g.Node.Fields()) }

// writeField is a field and its subtree with this writer's encodings.
type writeField struct{ parquet.Field }

func (f writeField) Fields() []parquet.Field { return writeFields(f.Field.Fields()) }

func (f writeField) Encoding() encoding.Encoding {
	if !f.Leaf() {
		return f.Field.Encoding()
	}
	if e := f.Field.Encoding(); e != nil && (e.Encoding() == format.RLEDictionary || e.Encoding() == format.PlainDictionary) {
		return &parquet.RLEDictionary
	}
	switch f.Type().Kind() {
	case parquet.Int32, parquet.Int64:
		return &parquet.DeltaBinaryPacked
	}
	return nil
}

func (f writeField) Compression() compress.Codec {
	if f.Leaf() {
		return nil
	}
	return f.Field.Compression()
}

func writeFields(fs []parquet.Field) []parquet.Field {
	if len(fs) == 0 {
		return fs
	}
	out := make([]parquet.Field, len(fs))
	for i, f := range fs {
		out[i] = writeField{f}
	}
	return out
}
