package cdcwrite

import (
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"
)

// plainSchema is s with no encoding or compression on its leaves (a schema
// read from a file carries the file's), so the writer picks its own: no
// dictionary, and zstd. Names, types, logical types and repetition are
// s's.
func plainSchema(s *parquet.Schema) *parquet.Schema {
	return parquet.NewSchema(s.Name(), plainGroup{s})
}

// plainGroup is the root: its fields wrapped.
type plainGroup struct{ parquet.Node }

func (g plainGroup) Fields() []parquet.Field { return plainFields(g.Node.Fields()) }

// plainField is a field and its subtree without encodings or codecs.
type plainField struct{ parquet.Field }

func (f plainField) Fields() []parquet.Field { return plainFields(f.Field.Fields()) }

func (f plainField) Encoding() encoding.Encoding {
	if f.Leaf() {
		return nil
	}
	return f.Field.Encoding()
}

func (f plainField) Compression() compress.Codec {
	if f.Leaf() {
		return nil
	}
	return f.Field.Compression()
}

func plainFields(fs []parquet.Field) []parquet.Field {
	if len(fs) == 0 {
		return fs
	}
	out := make([]parquet.Field, len(fs))
	for i, f := range fs {
		out[i] = plainField{f}
	}
	return out
}
