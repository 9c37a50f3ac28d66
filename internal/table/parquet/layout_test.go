package parquet

import (
	"context"
	"testing"

	"github.com/parquet-go/parquet-go/format"

	"github.com/dxdata/dx/dag"
)

// A segment is named by its columns' bytes and by where its rows lie in
// them: the same pages, with the rows at another place in one of them, or
// another count of rows, or another codec, are other rows.
func TestSegmentIDsNameTheRowsInTheirPages(t *testing.T) {
	chunks := []dag.ChunkRef{{ID: dag.Hash(dag.KindChunk, []byte("a")), Len: 4096}, {ID: dag.Hash(dag.KindChunk, []byte("b")), Len: 4096}}
	v := &version{r: newChunkReader(context.Background(), &memSource{refs: chunks})}
	md := &format.ColumnMetaData{Codec: format.Zstd, DataPageOffset: 100, TotalCompressedSize: 8000}
	pages := []format.PageLocation{{Offset: 100, CompressedPageSize: 3000, FirstRowIndex: 0}, {Offset: 3100, CompressedPageSize: 3000, FirstRowIndex: 50}}
	id := func(codec format.CompressionCodec, p int, from, to int64) [32]byte {
		var sc colScratch
		m := *md
		m.Codec = codec
		sc.page(&m, pages, p, from, to)
		sc.page(&m, pages, 0, 0, to-from) // a second column, the same in every case
		return v.chunkID(sc.cols)
	}
	base := id(format.Zstd, 1, 60, 70)
	if again := id(format.Zstd, 1, 60, 70); again != base {
		t.Fatal("one segment named twice differs")
	}
	for name, other := range map[string][32]byte{
		"rows elsewhere in the page": id(format.Zstd, 1, 55, 65),
		"fewer rows":                 id(format.Zstd, 1, 60, 69),
		"another page":               id(format.Zstd, 0, 10, 20),
		"another codec":              id(format.Snappy, 1, 60, 70),
	} {
		if other == base {
			t.Errorf("%s: same id", name)
		}
	}
	// The same bytes in another version, cut into other chunks, are
	// named otherwise only by the chunks: equal chunks, equal names.
	w := &version{r: newChunkReader(context.Background(), &memSource{refs: chunks})}
	var sc colScratch
	sc.page(md, pages, 1, 60, 70)
	sc.page(md, pages, 0, 0, 10)
	if w.chunkID(sc.cols) != base {
		t.Error("the same segment of a version with the same chunks has another id")
	}
}
