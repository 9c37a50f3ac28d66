package merge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/dxdata/dx/dag"
)

// RowConflict is a key the two sides changed differently. A nil row is
// absent on that side (never there, or removed).
type RowConflict struct {
	Key                string
	Base, Ours, Theirs *Row
}

// Piece is part of a merged file: an unchanged chunk of the side the merge
// was built on, or new bytes (whole rows) for the caller to chunk and
// store.
type Piece struct {
	Chunk *dag.ChunkRef
	Data  []byte
}

// RowMerge is the three-way merge of one table.
type RowMerge struct {
	Header    Header
	Pieces    []Piece // the merged file, in order
	Conflicts []RowConflict
	// Applied counts the other side's row changes written into the result.
	Added, Changed, Removed int
	// Unchanged is set when the result is the side it was built on.
	Unchanged bool
	// OnTheirs: the result was built on theirs (only theirs changed the
	// header), with ours' row changes applied to it.
	OnTheirs bool
	Stats    DiffStats // of the two row diffs and the rewrite
}

// ErrHeaderConflict: both sides changed a table's header, differently.
var ErrHeaderConflict = errors.New("both sides changed the header differently")

// MergeRows merges two versions of a table that both changed since base,
// row by row by key. The result is built on ours (on theirs if only theirs
// changed the header): its chunks are kept, and only the chunks holding
// rows the other side changed or removed are rewritten; rows the other
// side added go at the end. A key both sides changed differently is a
// conflict; the result keeps the built-on side's version of it. Cost:
// two row diffs and the rewritten chunks, so it follows the change.
func MergeRows(ctx context.Context, t Table, base, ours, theirs Source, o DiffOptions) (*RowMerge, error) {
	if !t.Keyed() {
		return nil, errors.New("a table without a key column cannot be merged row by row")
	}
	// The two diffs at once: each is mostly reads of a few scattered
	// chunks, so together they keep the cores busier.
	var dO, dT *RowDiff
	var errO, errT error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		dT, errT = DiffRows(ctx, t, base, theirs, o)
	}()
	dO, errO = DiffRows(ctx, t, base, ours, o)
	wg.Wait()
	if errO != nil {
		return nil, fmt.Errorf("ours: %w", errO)
	}
	if errT != nil {
		return nil, fmt.Errorf("theirs: %w", errT)
	}
	hb, ho, ht := dO.OldHeader.Cols, dO.NewHeader.Cols, dT.NewHeader.Cols
	onTheirs := false
	switch oc, tc := !slices.Equal(ho, hb), !slices.Equal(ht, hb); {
	case oc && tc && !slices.Equal(ho, ht):
		return nil, ErrHeaderConflict
	case tc && !oc:
		onTheirs = true
	}
	prim, other := dO, dT // prim: the diff base → the side built on
	if onTheirs {
		prim, other = dT, dO
	}
	res := &RowMerge{Header: prim.NewHeader, OnTheirs: onTheirs}
	res.Stats = addStats(dO.Stats, dT.Stats)

	primCh := make(map[string]*RowChange, len(prim.Changes))
	for i := range prim.Changes {
		primCh[prim.Changes[i].Key] = &prim.Changes[i]
	}
	var apply []*RowChange
	for i := range other.Changes {
		c := &other.Changes[i]
		p, both := primCh[c.Key]
		switch {
		case !both:
			apply = append(apply, c)
		case sameOutcome(p, c):
		case p.Kind == RowChanged && len(baseColumns(p, hb)) == 0:
			// The built-on side only filled in columns it added to the
			// header: the other side's change (or removal) goes on top.
			if c.Kind == RowRemoved {
				apply = append(apply, c)
				break
			}
			m := &RowChange{Kind: RowChanged, Key: c.Key, Old: c.Old, New: overlay(p.New, c.New, c.Columns)}
			apply = append(apply, m)
		default:
			rc := RowConflict{Key: c.Key, Base: c.Old, Ours: p.New, Theirs: c.New}
			if onTheirs {
				rc.Ours, rc.Theirs = c.New, p.New
			}
			res.Conflicts = append(res.Conflicts, rc)
		}
	}
	sort.Slice(res.Conflicts, func(i, j int) bool { return res.Conflicts[i].Key < res.Conflicts[j].Key })
	if len(apply) == 0 {
		res.Unchanged = true
		for _, c := range prim.d.sides[1].chunks {
			res.Pieces = append(res.Pieces, Piece{Chunk: &c})
		}
		return res, nil
	}
	if err := rewrite(ctx, t, prim, apply, o, res); err != nil {
		return nil, err
	}
	return res, nil
}

func addStats(a, b DiffStats) DiffStats {
	a.BytesTotal += b.BytesTotal
	a.BytesRead += b.BytesRead
	a.BytesParsed += b.BytesParsed
	a.Chunks += b.Chunks
	a.ChunksRead += b.ChunksRead
	a.FullParse = a.FullParse || b.FullParse
	return a
}

// baseColumns lists the columns of the base header a change touched.
func baseColumns(c *RowChange, base []string) []string {
	var out []string
	for _, col := range c.Columns {
		if slices.Contains(base, col) {
			out = append(out, col)
		}
	}
	return out
}

// overlay returns row with the given columns taken from other.
func overlay(row, other *Row, cols []string) *Row {
	out := &Row{Key: row.Key, Cols: row.Cols, Vals: slices.Clone(row.Vals), Line: row.Line, Off: row.Off, End: row.End}
	for _, c := range cols {
		if i := slices.Index(out.Cols, c); i >= 0 {
			out.Vals[i], _ = other.Value(c)
		}
	}
	return out
}

// sameOutcome: both sides removed the row, or left it with equal values.
func sameOutcome(a, b *RowChange) bool {
	if a.New == nil || b.New == nil {
		return a.New == nil && b.New == nil
	}
	return len(changedColumns(a.New, b.New)) == 0
}

// rewrite builds the merged file on the new side of prim (base → P) with
// the changes apply (from base → X) written in.
func rewrite(ctx context.Context, t Table, prim *RowDiff, apply []*RowChange, o DiffOptions, res *RowMerge) error {
	d := prim.d
	b, p := d.sides[0], d.sides[1]
	byKey := make(map[string]*RowChange, len(apply))
	var added []*RowChange
	mark := make([]bool, len(p.chunks))
	whole := !o.Aligned
	for _, c := range apply {
		if c.Kind == RowAdded {
			added = append(added, c)
			continue
		}
		byKey[c.Key] = c
		// Where is the row in P? Its base chunk, if P kept it, else the
		// run of P that replaced the run of base holding it.
		cb := sort.Search(len(b.offs), func(i int) bool { return b.offs[i] > c.Old.Off }) - 1
		if cb < 0 {
			whole = true
			continue
		}
		if j := b.partner[cb]; j >= 0 {
			mark[j] = true // P kept the chunk
			continue
		}
		found := false
		for _, u := range prim.us {
			if u.r[0] != nil && u.r[0].from <= cb && cb < u.r[0].to {
				if u.r[1] != nil {
					for j := u.r[1].from; j < u.r[1].to; j++ {
						mark[j] = true
					}
					found = true
				}
				break
			}
		}
		if !found {
			whole = true
		}
	}
	if len(added) > 0 && len(p.chunks) > 0 {
		mark[len(p.chunks)-1] = true // new rows go at the end
	}
	if whole {
		for i := range mark {
			mark[i] = true
		}
	}
	// Runs start and end at row boundaries.
	for changed := true; changed; {
		changed = false
		for i := range mark {
			if !mark[i] {
				continue
			}
			if i > 0 && !mark[i-1] && !d.trusted(p, i-1) {
				mark[i-1], changed = true, true
			}
			if i+1 < len(mark) && !mark[i+1] && !d.trusted(p, i) {
				mark[i+1], changed = true, true
			}
		}
	}
	eol := "\n"
	if len(p.chunks) > 0 {
		first, err := d.read(ctx, p, 0, nil)
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(first, '\n'); i > 0 && first[i-1] == '\r' {
			eol = "\r\n"
		}
	}
	found := map[string]bool{}
	var pieces []Piece
	var parsed int64
	for i := 0; i < len(p.chunks); {
		if !mark[i] {
			c := p.chunks[i]
			pieces = append(pieces, Piece{Chunk: &c})
			i++
			continue
		}
		j := i
		for j < len(p.chunks) && mark[j] {
			j++
		}
		data, err := d.readRun(ctx, p, span{i, j})
		if err != nil {
			return err
		}
		parsed += int64(len(data))
		out := make([]byte, 0, len(data)+len(data)/8)
		body := data
		if i == 0 {
			out = append(out, data[:p.hdrLen]...)
			body = data[p.hdrLen:]
		}
		last := j == len(p.chunks)
		err = t.Parse(p.header, body, last, func(r Row) error {
			c, ok := byKey[r.Key]
			if !ok {
				out = append(out, body[r.Off:r.End]...)
				return nil
			}
			if found[r.Key] {
				return fmt.Errorf("duplicate key %s", showKey(r.Key))
			}
			found[r.Key] = true
			if c.Kind == RowRemoved {
				res.Removed++
				return nil
			}
			res.Changed++
			out = t.AppendRow(out, res.Header, c.New, eol)
			return nil
		})
		if err != nil {
			return fmt.Errorf("merging: %w", err)
		}
		if last && len(added) > 0 {
			if len(out) > 0 && out[len(out)-1] != '\n' {
				out = append(out, eol...)
			}
			for _, c := range added {
				out = t.AppendRow(out, res.Header, c.New, eol)
				res.Added++
			}
		}
		pieces = append(pieces, Piece{Data: out})
		i = j
	}
	if len(p.chunks) == 0 {
		// An empty table on the built-on side: the header and the rows.
		var out []byte
		if cols := res.Header.Cols; len(cols) > 0 {
			out = t.AppendRow(out, res.Header, &Row{Cols: cols, Vals: cols}, eol)
		}
		for _, c := range added {
			out = t.AppendRow(out, res.Header, c.New, eol)
			res.Added++
		}
		pieces = append(pieces, Piece{Data: out})
	}
	for k := range byKey {
		if !found[k] {
			if !whole {
				// The row was not where the chunk maps said: rewrite all.
				res.Added, res.Changed, res.Removed = 0, 0, 0
				return rewrite(ctx, t, prim, apply, DiffOptions{}, res)
			}
			return fmt.Errorf("merging: the row with key %s is not in the version merged into", showKey(k))
		}
	}
	res.Pieces = pieces
	res.Stats = addStats(res.Stats, DiffStats{BytesParsed: parsed})
	return nil
}
