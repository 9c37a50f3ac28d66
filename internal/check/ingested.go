package check

import (
	"bytes"
	"sync"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/csvdialect"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
)

// Ingested checks a new version of a table as ingest reads it into the
// store: each chunk, on the core that hashes it, as Full checks a span
// without a contract, by the fast reading of rows. A version whose every
// chunk reads so and whose keys ascend through the file is one Full
// finds good (the same reading; keys that ascend are distinct), so it
// needs no second read of the file; anything else leaves the check to
// Full.
type Ingested struct {
	t      *table.Reader
	h      merge.Header
	header []byte // the file's bytes up to its first row

	// d is the dialect of a CSV read in another than the chunker's: of
	// each chunk, ends keeps what it does to the reading state.
	d *csvdialect.Dialect

	mu     sync.Mutex
	chunks map[int]chunkRows
	ends   map[int]csvdialect.Transitions
	failed bool
}

// chunkRows is what one chunk read: its rows, the order of their keys,
// and whether it ends at a row end.
type chunkRows struct {
	rows    int64
	keys    keyOrder
	endsRow bool
}

// NewIngested returns the check of a new version of a table read by t,
// whose first bytes up to its first row are header, h read from them. It
// is nil where the fast reading does not apply (JSONL, no header).
func NewIngested(t *table.Reader, h merge.Header, header []byte) *Ingested {
	if f := t.Spec().Format; f != table.CSV && f != table.TSV || h.Implicit || len(h.Cols) == 0 {
		return nil
	}
	in := &Ingested{t: t, h: h, header: bytes.Clone(header), chunks: map[int]chunkRows{}, ends: map[int]csvdialect.Transitions{}}
	if d := t.Spec().CSVDialect(); t.Spec().Format == table.CSV && d != csvdialect.Default {
		in.d = &d
	}
	return in
}

// Chunk checks chunk seq of the file. Every chunk but the last must end
// at a row end: with no quote in it (the fast reading allows none), a
// line end. Of a chunk that reads so, has rows and whose keys ascend, it
// returns the key range, as table.Reader.ChunkKeys reads it: its first
// key and its last (ok false: none known).
func (in *Ingested) Chunk(seq int, data []byte) (r dag.KeyRange, ok bool) {
	if in.d != nil {
		t := in.d.Transitions(data)
		in.mu.Lock()
		in.ends[seq] = t
		in.mu.Unlock()
	}
	if seq == 0 {
		if !bytes.HasPrefix(data, in.header) {
			in.record(seq, chunkRows{}, false)
			return r, false
		}
		data = data[len(in.header):]
	}
	var c chunkRows
	keyed := in.t.Keyed()
	read := in.t.FastRows(in.h, data, func(key []byte) {
		c.rows++
		if keyed {
			c.keys.add(key)
		}
	})
	c.endsRow = len(data) == 0 || data[len(data)-1] == '\n'
	good := read && (!keyed || c.keys.n == 0 || c.keys.ascending)
	in.record(seq, c, good)
	if !good || !keyed || c.keys.n == 0 {
		return r, false
	}
	return dag.KeyRange{Lo: string(c.keys.first), Hi: string(c.keys.last)}, true
}

// record keeps what chunk seq read, or that it failed (ok false).
func (in *Ingested) record(seq int, c chunkRows, ok bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !ok {
		in.failed = true
		return
	}
	in.chunks[seq] = c
}

// Result says, once the file's chunks (n of them) are all checked,
// whether the version is good as a table of spec (the one the commit
// checks it under: the new tree's, which may not be the worktree's that
// ingest read it under), and its row count; false: Full must say.
func (in *Ingested) Result(spec table.Spec, n int) (rows int64, ok bool) {
	if in == nil || !in.t.Spec().SameReading(spec) {
		return 0, false
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.failed || len(in.chunks) != n || n == 0 {
		return 0, false
	}
	var last keyOrder // the keys so far
	for i := range n {
		c, seen := in.chunks[i]
		if !seen || !c.endsRow && i < n-1 {
			return 0, false // missed, or not ending at a row end
		}
		rows += c.rows
		if k := c.keys; k.n > 0 {
			if last.n > 0 && dag.CompareClassedKeys(k.first, k.firstInt, last.last, last.lastInt) <= 0 {
				return 0, false // not ascending across chunks: Full finds out
			}
			last.n, last.last, last.lastInt = k.n, k.last, k.lastInt
		}
	}
	return rows, true
}

// Transitions says, of each of the file's n chunks, what it does to the
// reading state of dialect d (csvdialect.Transitions), and whether that is
// known (read so). Both are nil if the file was not read as a CSV of
// dialect d other than the default.
func (in *Ingested) Transitions(d csvdialect.Dialect, n int) ([]csvdialect.Transitions, []bool) {
	if in == nil || in.d == nil || *in.d != d {
		return nil, nil
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	out, known := make([]csvdialect.Transitions, n), make([]bool, n)
	for i := range out {
		out[i], known[i] = in.ends[i]
	}
	return out, known
}
