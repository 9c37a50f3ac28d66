package merge

import (
	"context"
	"errors"
	"hash/maphash"

	"github.com/dxdata/dx/dag"
)

// Source is one version of a table file: its chunks in order and a way to
// read one. AppendChunk appends chunk i's bytes to dst; it may be called
// from several goroutines.
type Source interface {
	Chunks() []dag.ChunkRef
	AppendChunk(ctx context.Context, i int, dst []byte) ([]byte, error)
}

// Prefetcher is a Source that can be told which chunks will be read, so
// that it can start reading them all at once.
type Prefetcher interface {
	Prefetch(ctx context.Context, chunks []int)
}

// RowKind says how a row changed.
type RowKind string

// Row change kinds.
const (
	RowAdded   RowKind = "added"
	RowRemoved RowKind = "removed"
	RowChanged RowKind = "changed"
)

// RowChange is one row that differs. Old is nil for an added row, New for
// a removed one. Columns lists the changed columns of a changed row.
type RowChange struct {
	Kind    RowKind
	Key     string
	Old     *Row
	New     *Row
	Columns []string
}

// DiffStats count the work a row diff did.
type DiffStats struct {
	BytesTotal  int64 `json:"bytes_total"`  // both versions' sizes
	BytesRead   int64 `json:"bytes_read"`   // chunk bytes read (both sides)
	BytesParsed int64 `json:"bytes_parsed"` // bytes handed to the parser
	Chunks      int   `json:"chunks"`       // chunks in both versions
	ChunksRead  int   `json:"chunks_read"`
	FullParse   bool  `json:"full_parse"` // chunk boundaries could not be trusted
	// RowsDecoded counts the rows of a Parquet table decoded (both sides).
	RowsDecoded int64 `json:"rows_decoded,omitempty"`
}

// addStats sums the work of two diffs (or of a diff and a rewrite).
func addStats(a, b DiffStats) DiffStats {
	a.BytesTotal += b.BytesTotal
	a.BytesRead += b.BytesRead
	a.BytesParsed += b.BytesParsed
	a.Chunks += b.Chunks
	a.ChunksRead += b.ChunksRead
	a.FullParse = a.FullParse || b.FullParse
	a.RowsDecoded += b.RowsDecoded
	return a
}

// RowDiff is the row-level difference of two versions of a table.
type RowDiff struct {
	OldHeader, NewHeader Header
	Changes              []RowChange // removed (old order), then changed and added (new order)
	Stats                DiffStats
}

// Counts returns how many rows d adds, removes and changes (none for a nil
// RowDiff).
func (d *RowDiff) Counts() (added, removed, changed int) {
	if d == nil {
		return
	}
	for _, c := range d.Changes {
		switch c.Kind {
		case RowAdded:
			added++
		case RowRemoved:
			removed++
		default:
			changed++
		}
	}
	return
}

// DiffOptions tell DiffRows what it may assume about chunk boundaries.
type DiffOptions struct {
	// Aligned: the files were cut only at row ends, except after a chunk
	// of exactly MaxChunk bytes (the chunker found no row end in range)
	// and where a Source says so (RowCutter). Without it both files are
	// parsed whole.
	Aligned  bool
	MaxChunk int
}

// DiffRows compares two versions of a table by rows. Chunks present in
// both versions hold the same rows and are not read: only the runs of
// chunks that differ are read and parsed (widened where a boundary may
// not be a row boundary), and rows equal at the start and end of paired
// runs are skipped without parsing. The cost follows the change.
func DiffRows(ctx context.Context, t Table, a, b Source, o DiffOptions) (*RowDiff, error) {
	td, err := diffRows(ctx, t, a, b, o, nil)
	if err != nil {
		return nil, err
	}
	return td.RowDiff, nil
}

// tableDiff is a row diff as a merge uses it: the changes (the RowDiff
// callers get) and how the chunks of the two versions correspond. The
// differ's sides say which chunks each version shares with the other and
// which it changed; the units are the runs of changed chunks the diff
// read, with their rows. From them a merge tells where a row of the old
// version is in the new one (locate) and which runs of the other side's
// chunks it may take whole (findTakes).
type tableDiff struct {
	*RowDiff
	differ *differ
	units  []*unit
}

// diffRows is DiffRows; with only set, it reads and compares only the runs
// of changed chunks whose chunks of a, [from, to), only accepts (and the
// runs of b that replace none of a's): the result lists the changes in
// those alone.
func diffRows(ctx context.Context, t Table, a, b Source, o DiffOptions, only func(from, to int) bool) (*tableDiff, error) {
	d := &differ{table: t, opts: o, seed: maphash.MakeSeed(), only: only}
	d.sides[0] = newSide(a)
	d.sides[1] = newSide(b)
	d.match()
	if !o.Aligned {
		d.markAll()
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		d.widen()
		if err := d.headers(ctx); err != nil {
			return nil, err
		}
		res, err := d.run(ctx)
		if errors.Is(err, errWiden) {
			continue // some run was widened; try again
		}
		if err != nil {
			return nil, err
		}
		return res, nil
	}
}

// errWiden: a run ended inside a row and was widened; the diff runs again.
var errWiden = errors.New("widen")
