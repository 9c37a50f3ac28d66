package merge

import (
	"slices"

	"github.com/dxdata/dx/dag"
)

// RowCutter is a Source that knows which of its cuts fall inside a row: a
// CSV of another dialect than the one the chunker reads, whose quoted
// fields hold line ends. With DiffOptions.Aligned, those cuts are not
// taken as row ends either.
type RowCutter interface {
	// CutsInsideRows lists the cuts that fall inside a row, in
	// increasing order: i for the cut after chunk i.
	CutsInsideRows() []int
}

// CutsInsideRows is what src says of its cuts inside rows (see
// RowCutter); none if it says nothing.
func CutsInsideRows(src Source) []int {
	if rc, ok := src.(RowCutter); ok {
		return rc.CutsInsideRows()
	}
	return nil
}

// RowEnd reports whether o lets the cut after chunk i of src, whose chunks
// are chunks, be taken as a row end.
func (o DiffOptions) RowEnd(src Source, chunks []dag.ChunkRef, i int) bool {
	if !o.Aligned || o.MaxChunk > 0 && int(chunks[i].Len) >= o.MaxChunk {
		return false
	}
	_, inside := slices.BinarySearch(CutsInsideRows(src), i)
	return !inside
}
