package merge

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

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
	Off   int64 // where Chunk is in the file of the side built on
	// Other: Chunk is the other side's, at Off in its file.
	Other bool
	Data  []byte
}

// RowMerge is the three-way merge of one table.
type RowMerge struct {
	Header    Header
	Pieces    []Piece // the merged file, in order
	Conflicts []RowConflict
	// Applied counts the other side's row changes written into the result.
	Added, Changed, Removed int
	// Taken counts those of them that came in runs of the other side's
	// chunks taken whole (neither rewritten nor stored again).
	Taken int
	// Unread counts the runs of the other side's changed chunks taken
	// whole without reading them: key ranges showed that no key in them
	// was changed by the side built on. Their row changes are in the
	// result but not in the counts above.
	Unread int
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
	return mergeRows(ctx, t, base, ours, theirs, o, testSettings{})
}

// testSettings holds what tests change in mergeRows: misplace shifts where rows
// are looked for, so that the check of what is found there is exercised;
// plain takes no runs whole and diffs both sides in full.
type testSettings struct {
	misplace int64
	plain    bool // no runs taken whole, both sides diffed in full
	noRanges bool // key ranges not used (also: a blind run could not be placed)
}

// mergeRows is MergeRows.
func mergeRows(ctx context.Context, t Table, base, ours, theirs Source, o DiffOptions, tst testSettings) (*RowMerge, error) {
	if !t.Keyed() {
		return nil, errors.New("a table without a key column cannot be merged row by row")
	}
	dO, dT, blind, err := mergeDiffs(ctx, t, base, ours, theirs, o, !tst.plain, !tst.noRanges)
	if err != nil {
		return nil, err
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
		case p.Kind == RowChanged && len(hb) > 0 && len(baseColumns(p, hb)) == 0:
			// The built-on side only filled in columns it added to the
			// header: the other side's change (or removal) goes on top.
			// (A JSONL table has no header: any field changed on both
			// sides is a conflict.)
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
	if len(apply) == 0 && len(blind) == 0 {
		res.Unchanged = true
		p := prim.d.sides[1]
		for i, c := range p.chunks {
			res.Pieces = append(res.Pieces, Piece{Chunk: &c, Off: p.offs[i]})
		}
		return res, nil
	}
	var takes []*take
	var links map[*unit][]*unit
	if !onTheirs && o.Aligned && !tst.plain {
		takes, links = findTakes(prim, other, apply)
	}
	for _, u := range other.us { // (blind: onTheirs is false, headers being equal)
		if r := u.r[0]; r != nil && blind[*r] {
			j, ok := takeable(prim.d.sides[0], other.d.sides[1], u)
			if !ok { // (not expected: rangedDiffs checked it)
				tst.noRanges = true
				return mergeRows(ctx, t, base, ours, theirs, o, tst)
			}
			takes = append(takes, &take{u: u, from: j, n: r.to - r.from, blind: true})
		}
	}
	stats := res.Stats
	for {
		taken := map[*RowChange]bool{}
		for _, tk := range takes {
			for _, c := range tk.changes {
				taken[c] = true
			}
		}
		rest := make([]*RowChange, 0, len(apply))
		for _, c := range apply {
			if !taken[c] {
				rest = append(rest, c)
			}
		}
		res.Added, res.Changed, res.Removed, res.Stats = 0, 0, 0, stats
		if err := rewrite(ctx, t, prim, rest, o, tst.misplace, res); err != nil {
			return nil, err
		}
		left := closeTakes(placeTakes(res, prim, other, takes), links)
		if len(left) == len(takes) {
			break
		}
		if slices.ContainsFunc(takes, func(tk *take) bool { return tk.blind && !slices.Contains(left, tk) }) {
			// Its changes are not known, to be written in elsewhere.
			tst.noRanges = true
			return mergeRows(ctx, t, base, ours, theirs, o, tst)
		}
		takes = left // some run around a take was rewritten: apply its changes there
	}
	for _, tk := range takes {
		if tk.blind {
			res.Unread++
		}
		res.Taken += len(tk.changes)
		for _, c := range tk.changes {
			switch c.Kind {
			case RowAdded:
				res.Added++
			case RowChanged:
				res.Changed++
			case RowRemoved:
				res.Removed++
			}
		}
	}
	return res, nil
}

// take is a run of the other side's chunks that goes into the merged file
// as it is, in place of the base chunks it replaced, which the built-on
// side kept as they were: every row change of the run is to be applied.
// Its rows need no rewriting and its chunks no storing. The row diffs
// still read it: they find the changes both sides made to a key, wherever
// the rows went.
type take struct {
	u       *unit // of the diff base → other side
	from    int   // first chunk of the built-on side it replaces
	n       int   // how many
	changes []*RowChange
	// blind: taken unread (see rangedDiffs); its changes are not known.
	blind bool
}

// findTakes lists the runs of the other side that can be taken whole.
// The merged file then has the other side's cuts in the run and the
// built-on side's around it, as a fresh chunking of its bytes would,
// since a cut depends on the bytes before it (and the row end after). The
// exception is the chunker's rare fallback, a cut moved back to an earlier
// row end when no row ends between the hash's cut point and the largest
// chunk size: it depends on bytes up to that size ahead, which may differ
// across a boundary. Then the merged File is still the merged bytes, but
// cut differently from a commit of them (the same holds at the start of
// every run storeMerged re-cuts).
//
// A row the other side moved from one run to another (changed or not)
// links the two: taking one and not the other would leave the row twice
// in the result, or not at all. links lists each unit's linked units, and
// only takes whose linked units are all taken are returned (closeTakes).
func findTakes(prim, other *RowDiff, apply []*RowChange) ([]*take, map[*unit][]*unit) {
	od := other.d
	ob, os := od.sides[0], od.sides[1]
	pb := prim.d.sides[0] // base, as the diff base → built-on side saw it
	// Which unit of the other diff holds each of its chunks, on each side.
	unitOf := [2][]int{make([]int, len(ob.chunks)), make([]int, len(os.chunks))}
	for k := range unitOf {
		for i := range unitOf[k] {
			unitOf[k][i] = -1
		}
	}
	for ui, u := range other.us {
		for k, r := range u.r {
			if r != nil {
				for i := r.from; i < r.to; i++ {
					unitOf[k][i] = ui
				}
			}
		}
	}
	applied := make(map[*RowChange]bool, len(apply))
	for _, c := range apply {
		applied[c] = true
	}
	changes := make([][]*RowChange, len(other.us))
	bad := make([]bool, len(other.us))
	for i := range other.Changes {
		c := &other.Changes[i]
		var units []int
		if c.Old != nil {
			if k := chunkAt(ob, c.Old.Off); k >= 0 && unitOf[0][k] >= 0 {
				units = append(units, unitOf[0][k])
			}
		}
		if c.New != nil {
			if k := chunkAt(os, c.New.Off); k >= 0 && unitOf[1][k] >= 0 {
				units = append(units, unitOf[1][k])
			}
		}
		for _, ui := range units {
			if !applied[c] {
				bad[ui] = true // a conflict, or an outcome both sides reached
			}
			if !slices.Contains(changes[ui], c) {
				changes[ui] = append(changes[ui], c)
			}
		}
	}
	var out []*take
	for ui, u := range other.us {
		if bad[ui] || len(changes[ui]) == 0 {
			continue
		}
		if j, ok := takeable(pb, os, u); ok {
			out = append(out, &take{u: u, from: j, n: u.r[0].to - u.r[0].from, changes: changes[ui]})
		}
	}
	links := movedBetween(other.us)
	return closeTakes(out, links), links
}

// movedBetween links the units of a diff between which a row moved: its
// key is among the rows parsed on the old side of one and on the new side
// of another.
func movedBetween(us []*unit) map[*unit][]*unit {
	oldAt := map[string]*unit{}
	for _, u := range us {
		for i := range u.rows[0] {
			oldAt[u.rows[0][i].Key] = u
		}
	}
	links := map[*unit][]*unit{}
	for _, u := range us {
		for i := range u.rows[1] {
			if v := oldAt[u.rows[1][i].Key]; v != nil && v != u {
				if !slices.Contains(links[u], v) {
					links[u] = append(links[u], v)
					links[v] = append(links[v], u)
				}
			}
		}
	}
	return links
}

// closeTakes drops the takes of units linked to a unit not taken, until
// none is left to drop.
func closeTakes(takes []*take, links map[*unit][]*unit) []*take {
	for {
		in := make(map[*unit]bool, len(takes))
		for _, tk := range takes {
			in[tk.u] = true
		}
		kept := make([]*take, 0, len(takes))
		for _, tk := range takes {
			if !slices.ContainsFunc(links[tk.u], func(v *unit) bool { return !in[v] }) {
				kept = append(kept, tk)
			}
		}
		if len(kept) == len(takes) {
			return takes
		}
		takes = kept
	}
}

// takeable reports whether unit u of the diff base → other side can be
// taken whole into a file built on the side whose diff from the base saw
// the base as pb, and at which chunk of that side the base chunks it
// replaces start.
func takeable(pb, os *side, u *unit) (int, bool) {
	a, b := u.r[0], u.r[1]
	if a == nil || b == nil || a.from < 1 || a.to >= len(pb.chunks) ||
		b.from < 1 || b.to >= len(os.chunks) || os.partner[b.from-1] != a.from-1 || os.partner[b.to] != a.to {
		return 0, false // (the run replaces base chunks between the same two)
	}
	// The built-on side kept the base chunks the run replaces, in order:
	// their ends are cuts there too, whatever it changed around them.
	j := pb.partner[a.from]
	ok := j >= 0
	for k := a.from; ok && k < a.to; k++ {
		ok = !pb.dirty[k] && pb.partner[k] == j+(k-a.from)
	}
	return j, ok
}

// placeTakes puts the takes into the merged file, where the built-on
// side's chunks they replace were kept as they were; it returns the takes
// placed (fewer if a rewritten run reached into some).
func placeTakes(res *RowMerge, prim, other *RowDiff, takes []*take) []*take {
	if len(takes) == 0 {
		return nil
	}
	p, os := prim.d.sides[1], other.d.sides[1]
	at := make(map[int64]*take, len(takes)) // by the offset of the first chunk replaced
	for _, tk := range takes {
		at[p.offs[tk.from]] = tk
	}
	var placed []*take
	pieces := make([]Piece, 0, len(res.Pieces))
	for i := 0; i < len(res.Pieces); {
		pc := res.Pieces[i]
		tk := at[pc.Off]
		if pc.Chunk == nil || tk == nil || i+tk.n > len(res.Pieces) {
			pieces = append(pieces, pc)
			i++
			continue
		}
		whole := true
		for k := 0; k < tk.n && whole; k++ {
			q := res.Pieces[i+k]
			whole = q.Chunk != nil && q.Off == p.offs[tk.from+k]
		}
		if !whole {
			pieces = append(pieces, pc)
			i++
			continue
		}
		for k := tk.u.r[1].from; k < tk.u.r[1].to; k++ {
			c := os.chunks[k]
			pieces = append(pieces, Piece{Chunk: &c, Off: os.offs[k], Other: true})
		}
		placed = append(placed, tk)
		i += tk.n
	}
	res.Pieces = pieces
	return placed
}

// mergeDiffs diffs base against each side. When theirs only changed or
// removed rows, in place, under the same header, ours' changes matter only
// where theirs changed something: a key theirs changed is in one of those
// base chunks, and ours changed it only by changing that chunk. So ours is
// diffed there alone, unless that shows it adding or removing rows (a row
// ours moved would look removed) or changing the header: then everywhere.
//
// With key ranges (see rangedDiffs), theirs too is diffed only in part,
// and blind lists the base runs of its units taken unread.
func mergeDiffs(ctx context.Context, t Table, base, ours, theirs Source, o DiffOptions, inPart, ranged bool) (dO, dT *RowDiff, blind map[span]bool, err error) {
	if inPart && ranged && o.Aligned {
		if dO, dT, blind, err = rangedDiffs(ctx, t, base, ours, theirs, o); err != nil || blind != nil {
			return dO, dT, blind, err
		}
	}
	dO, dT, err = mergeDiffsUnranged(ctx, t, base, ours, theirs, o, inPart)
	return dO, dT, nil, err
}

func mergeDiffsUnranged(ctx context.Context, t Table, base, ours, theirs Source, o DiffOptions, inPart bool) (dO, dT *RowDiff, err error) {
	if dT, err = DiffRows(ctx, t, base, theirs, o); err != nil {
		return nil, nil, fmt.Errorf("theirs: %w", err)
	}
	partial := inPart && o.Aligned && slices.Equal(dT.OldHeader.Cols, dT.NewHeader.Cols) &&
		!slices.ContainsFunc(dT.Changes, func(c RowChange) bool { return c.Kind == RowAdded })
	if partial {
		touched := dT.d.sides[0].dirty // base chunks theirs changed (or read around a change)
		dO, err = diffRows(ctx, t, base, ours, o, func(from, to int) bool {
			return slices.Contains(touched[from:to], true)
		})
		if err == nil && slices.Equal(dO.OldHeader.Cols, dO.NewHeader.Cols) &&
			!slices.ContainsFunc(dO.Changes, func(c RowChange) bool { return c.Kind != RowChanged }) {
			return dO, dT, nil
		}
	}
	if dO, err = DiffRows(ctx, t, base, ours, o); err != nil {
		return nil, nil, fmt.Errorf("ours: %w", err)
	}
	return dO, dT, nil
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
// the changes apply (from base → X) written in. Each changed or removed
// row is looked for where the diff base → P says it is (prim.locate);
// found there, it is replaced in place, and its chunks are read but not
// parsed. A run holding a row not found that way is parsed, and its rows
// are matched by key.
func rewrite(ctx context.Context, t Table, prim *RowDiff, apply []*RowChange, o DiffOptions, misplace int64, res *RowMerge) error {
	d := prim.d
	b, p := d.sides[0], d.sides[1]
	byKey := make(map[string]*RowChange, len(apply))
	var added []*RowChange
	mark := make([]bool, len(p.chunks))
	parse := make([]bool, len(p.chunks)) // the chunk's rows are found by key
	whole := !o.Aligned
	locate := o.Aligned && slices.Equal(b.header.Cols, p.header.Cols)
	var edits []edit
	for _, c := range apply {
		if c.Kind == RowAdded {
			added = append(added, c)
			continue
		}
		byKey[c.Key] = c
		if locate {
			if off, end, ok := prim.locate(c.Old); ok {
				off, end = min(off+misplace, p.size), min(end+misplace, p.size)
				edits = append(edits, edit{off: off, end: end, c: c})
				for j := chunkAt(p, off); j >= 0 && j < len(p.chunks) && p.offs[j] < end; j++ {
					mark[j] = true
				}
				continue
			}
		}
		// Where is the row in P? Its base chunk, if P kept it, else the
		// run of P that replaced the run of base holding it.
		cb := chunkAt(b, c.Old.Off)
		if cb < 0 {
			whole = true
			continue
		}
		if j := b.partner[cb]; j >= 0 {
			mark[j], parse[j] = true, true // P kept the chunk
			continue
		}
		found := false
		for _, u := range prim.us {
			if u.r[0] != nil && u.r[0].from <= cb && cb < u.r[0].to {
				if u.r[1] != nil {
					for j := u.r[1].from; j < u.r[1].to; j++ {
						mark[j], parse[j] = true, true
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
			mark[i], parse[i] = true, true
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
	if pf, ok := p.src.(Prefetcher); ok {
		var idx []int
		for i, m := range mark {
			if m {
				idx = append(idx, i)
			}
		}
		pf.Prefetch(ctx, idx)
	}
	slices.SortFunc(edits, func(a, b edit) int { return cmp.Compare(a.off, b.off) })
	var runs []*rewriteRun
	var pieces []Piece
	for i := 0; i < len(p.chunks); {
		if !mark[i] {
			c := p.chunks[i]
			pieces = append(pieces, Piece{Chunk: &c, Off: p.offs[i]})
			i++
			continue
		}
		j := i
		for j < len(p.chunks) && mark[j] {
			j++
		}
		rr := &rewriteRun{span: span{i, j}, piece: len(pieces)}
		lo, hi := p.offs[i], p.offs[j-1]+int64(p.chunks[j-1].Len)
		k := sort.Search(len(edits), func(k int) bool { return edits[k].off >= lo })
		for ; k < len(edits) && edits[k].off < hi; k++ {
			rr.edits = append(rr.edits, edits[k])
		}
		rr.parse = slices.Contains(parse[i:j], true)
		runs = append(runs, rr)
		pieces = append(pieces, Piece{})
		i = j
	}
	// The runs are independent: read and rewrite them on all cores.
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(runs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1) - 1)
				if k >= len(runs) || ctx.Err() != nil {
					return
				}
				rr := runs[k]
				last := rr.to == len(p.chunks)
				rr.err = rr.do(ctx, t, d, p, byKey, res.Header, eol, last, added)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	found := map[string]bool{}
	var parsed int64
	for _, rr := range runs {
		if rr.err != nil {
			return fmt.Errorf("merging: %w", rr.err)
		}
		for _, k := range rr.found {
			if found[k] {
				return fmt.Errorf("merging: %w", &DuplicateKeyError{Key: k})
			}
			found[k] = true
		}
		res.Changed += rr.changed
		res.Removed += rr.removed
		parsed += rr.parsed
		pieces[rr.piece] = Piece{Data: rr.out}
	}
	if len(p.chunks) > 0 && len(added) > 0 {
		res.Added += len(added)
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
				return rewrite(ctx, t, prim, apply, DiffOptions{}, 0, res)
			}
			return fmt.Errorf("merging: the row with key %s is not in the version merged into", showKey(k))
		}
	}
	res.Pieces = pieces
	res.Stats = addStats(res.Stats, DiffStats{BytesParsed: parsed})
	return nil
}

// edit is a row of the built-on side, at [off, end) in its file, that the
// change c replaces (or removes).
type edit struct {
	off, end int64
	c        *RowChange
}

// rewriteRun is a run of chunks of the built-on side that the merge
// rewrites, and what it made of them.
type rewriteRun struct {
	span
	piece int    // index of its piece
	edits []edit // rows located in it, by offset
	parse bool   // find its rows by key: some row was not located

	out              []byte
	found            []string // keys replaced or removed
	changed, removed int
	parsed           int64
	err              error
}

// do reads the run and writes it out with the changes in. Located rows
// are checked to be what the change expects (one whole row with its key
// and old values) before they are replaced; if one is not, the run is
// parsed after all.
func (rr *rewriteRun) do(ctx context.Context, t Table, d *differ, p *side, byKey map[string]*RowChange, h Header, eol string, last bool, added []*RowChange) error {
	data, err := d.readRun(ctx, p, rr.span)
	if err != nil {
		return err
	}
	defer d.putBuf(data)
	base := p.offs[rr.from]
	out := make([]byte, 0, len(data)+len(data)/8)
	if !rr.parse {
		ok := true
		for _, e := range rr.edits {
			row := data[e.off-base : e.end-base]
			rr.parsed += int64(len(row))
			if !isRow(t, p.header, row, e.c.Old, last && e.end-base == int64(len(data))) {
				ok = false
				break
			}
		}
		if ok {
			pos := int64(0)
			for _, e := range rr.edits {
				out = append(out, data[pos:e.off-base]...)
				pos = e.end - base
				rr.found = append(rr.found, e.c.Key)
				if e.c.Kind == RowRemoved {
					rr.removed++
					continue
				}
				rr.changed++
				out = t.AppendRow(out, h, e.c.New, eol)
			}
			out = append(out, data[pos:]...)
			rr.out = appendAdded(t, out, h, eol, last, added)
			return nil
		}
	}
	rr.found, rr.changed, rr.removed = rr.found[:0], 0, 0
	body := data
	if rr.from == 0 {
		out = append(out, data[:p.hdrLen]...)
		body = data[p.hdrLen:]
	}
	rr.parsed += int64(len(body))
	err = t.Parse(p.header, body, last, func(r Row) error {
		c, ok := byKey[r.Key]
		if !ok {
			out = append(out, body[r.Off:r.End]...)
			return nil
		}
		rr.found = append(rr.found, r.Key)
		if c.Kind == RowRemoved {
			rr.removed++
			return nil
		}
		rr.changed++
		out = t.AppendRow(out, h, c.New, eol)
		return nil
	})
	if err != nil {
		return err
	}
	rr.out = appendAdded(t, out, h, eol, last, added)
	return nil
}

// appendAdded appends the rows added by the other side after the last
// run of the file.
func appendAdded(t Table, out []byte, h Header, eol string, last bool, added []*RowChange) []byte {
	if !last || len(added) == 0 {
		return out
	}
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, eol...)
	}
	for _, c := range added {
		out = t.AppendRow(out, h, c.New, eol)
	}
	return out
}

// isRow reports whether b is exactly one row, the same as want.
func isRow(t Table, h Header, b []byte, want *Row, atEOF bool) bool {
	n := 0
	ok := false
	err := t.Parse(h, b, atEOF, func(r Row) error {
		n++
		ok = r.Key == want.Key && r.End == int64(len(b)) && len(changedColumns(want, &r)) == 0
		return nil
	})
	return err == nil && n == 1 && ok
}

// chunkAt is the index of the chunk of s holding file offset off, or -1.
func chunkAt(s *side, off int64) int {
	if off < 0 || off >= s.size {
		return -1
	}
	return sort.Search(len(s.offs), func(i int) bool { return s.offs[i] > off }) - 1
}

// locate finds, without reading anything, where the new version holds a
// row of the old one: in a chunk the two versions share, at the same
// offset; in a run of changed chunks, among the rows equal at its start
// or its end or in between (skipped unparsed) or among the rows parsed. It returns the
// row's byte range in the new version's file; ok is false when the diff
// cannot tell. The caller checks the bytes there.
func (rd *RowDiff) locate(old *Row) (off, end int64, ok bool) {
	d := rd.d
	b, p := d.sides[0], d.sides[1]
	n := old.End - old.Off
	cb, ce := chunkAt(b, old.Off), chunkAt(b, old.End-1)
	if cb < 0 || ce < 0 {
		return 0, 0, false
	}
	if j := b.partner[cb]; j >= 0 && !b.dirty[cb] {
		// A chunk both versions hold, not read by the diff.
		for k := cb + 1; k <= ce; k++ {
			if b.dirty[k] || b.partner[k] != j+(k-cb) {
				return 0, 0, false
			}
		}
		off = p.offs[j] + old.Off - b.offs[cb]
		return off, off + n, true
	}
	for _, u := range rd.us {
		r := u.r[0]
		if r == nil || cb < r.from || cb >= r.to {
			continue
		}
		if u.r[1] == nil || ce >= r.to {
			return 0, 0, false
		}
		m0, m1 := u.mid[0], u.mid[1]
		switch {
		case old.End <= m0[0]:
			off = old.Off - m0[0] + m1[0]
			return off, off + n, true
		case old.Off >= m0[1]:
			off = old.Off - m0[1] + m1[1]
			return off, off + n, true
		}
		if i, found := slices.BinarySearchFunc(u.same, old.Off, func(x pair, off int64) int { return cmp.Compare(x.a, off) }); found {
			off = u.same[i].b
			return off, off + n, true
		}
		for i := range u.rows[1] {
			if row := &u.rows[1][i]; row.Key == old.Key {
				return row.Off, row.End, true
			}
		}
		return 0, 0, false
	}
	return 0, 0, false
}
