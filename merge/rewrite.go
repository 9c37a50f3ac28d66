package merge

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
)

// rewrite builds the merged file on the new side of host (base → H) with
// the changes apply (from base → X) written in. Each changed or removed
// row is looked for where the diff base → H says it is (host.locate),
// misplace bytes off (0 but in tests); found there, it is replaced in
// place, and its chunks are read but not parsed. A run holding a row not
// found that way is parsed, and its rows are matched by key.
func rewrite(ctx context.Context, in mergeInput, host *tableDiff, apply []*RowChange, misplace int64, res *RowMerge) error {
	d := host.differ
	baseSide, hostSide := d.sides[0], d.sides[1]
	byKey := make(map[string]*RowChange, len(apply))
	var added []*RowChange
	mark := make([]bool, len(hostSide.chunks))
	parse := make([]bool, len(hostSide.chunks)) // the chunk's rows are found by key
	whole := !in.opts.Aligned
	locating := in.opts.Aligned && slices.Equal(baseSide.header.Cols, hostSide.header.Cols)
	var edits []edit
	for _, c := range apply {
		if c.Kind == RowAdded {
			added = append(added, c)
			continue
		}
		byKey[c.Key] = c
		if locating {
			if off, end, ok := host.locate(c.Old); ok {
				off, end = min(off+misplace, hostSide.size), min(end+misplace, hostSide.size)
				edits = append(edits, edit{off: off, end: end, c: c})
				for j := hostSide.chunkAt(off); j >= 0 && j < len(hostSide.chunks) && hostSide.offs[j] < end; j++ {
					mark[j] = true
				}
				continue
			}
		}
		// Where is the row in H? Its base chunk, if H kept it, else the
		// run of H that replaced the run of base holding it.
		baseChunk := baseSide.chunkAt(c.Old.Off)
		if baseChunk < 0 {
			whole = true
			continue
		}
		if j := baseSide.partner[baseChunk]; j >= 0 {
			mark[j], parse[j] = true, true // H kept the chunk
			continue
		}
		found := false
		for _, u := range host.units {
			if u.r[0] != nil && u.r[0].from <= baseChunk && baseChunk < u.r[0].to {
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
	if len(added) > 0 && len(hostSide.chunks) > 0 {
		mark[len(hostSide.chunks)-1] = true // new rows go at the end
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
			if i > 0 && !mark[i-1] && !d.trusted(hostSide, i-1) {
				mark[i-1], changed = true, true
			}
			if i+1 < len(mark) && !mark[i+1] && !d.trusted(hostSide, i) {
				mark[i+1], changed = true, true
			}
		}
	}
	eol := "\n"
	if len(hostSide.chunks) > 0 {
		first, err := d.read(ctx, hostSide, 0, nil)
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(first, '\n'); i > 0 && first[i-1] == '\r' {
			eol = "\r\n"
		}
	}
	if pf, ok := hostSide.src.(Prefetcher); ok {
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
	for i := 0; i < len(hostSide.chunks); {
		if !mark[i] {
			c := hostSide.chunks[i]
			pieces = append(pieces, Piece{Chunk: &c, Off: hostSide.offs[i]})
			i++
			continue
		}
		j := i
		for j < len(hostSide.chunks) && mark[j] {
			j++
		}
		rr := &rewriteRun{span: span{i, j}, piece: len(pieces)}
		lo, hi := hostSide.offs[i], hostSide.offs[j-1]+int64(hostSide.chunks[j-1].Len)
		k := sort.Search(len(edits), func(k int) bool { return edits[k].off >= lo })
		for ; k < len(edits) && edits[k].off < hi; k++ {
			rr.edits = append(rr.edits, edits[k])
		}
		rr.parse = slices.Contains(parse[i:j], true)
		runs = append(runs, rr)
		pieces = append(pieces, Piece{})
		i = j
	}
	w := &rewriter{table: in.table, differ: d, host: hostSide, byKey: byKey, added: added, header: res.Header, eol: eol}
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
				runs[k].err = w.rewrite(ctx, runs[k])
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
	if len(hostSide.chunks) > 0 && len(added) > 0 {
		res.Added += len(added)
	}
	if len(hostSide.chunks) == 0 {
		// An empty table on the host side: the header and the rows.
		var out []byte
		if cols := res.Header.Cols; len(cols) > 0 && !res.Header.Implicit {
			out = in.table.AppendRow(out, res.Header, &Row{Cols: cols, Vals: cols}, eol)
		}
		for _, c := range added {
			out = in.table.AppendRow(out, res.Header, c.New, eol)
			res.Added++
		}
		pieces = append(pieces, Piece{Data: out})
	}
	for k := range byKey {
		if !found[k] {
			if !whole {
				// The row was not where the chunk maps said: rewrite all.
				res.Added, res.Changed, res.Removed = 0, 0, 0
				everywhere := in
				everywhere.opts = DiffOptions{}
				return rewrite(ctx, everywhere, host, apply, 0, res)
			}
			return fmt.Errorf("merging: the row with key %s is not in the version merged into", showKey(k))
		}
	}
	res.Pieces = pieces
	res.Stats = addStats(res.Stats, DiffStats{BytesParsed: parsed})
	return nil
}

// edit is a row of the host side, at [off, end) in its file, that the
// change c replaces (or removes).
type edit struct {
	off, end int64
	c        *RowChange
}

// rewriteRun is a run of chunks of the host side that the merge rewrites,
// and what it made of them.
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

// rewriter writes the other side's changes into runs of the host file;
// what every run shares.
type rewriter struct {
	table  Table
	differ *differ               // the host diff's: reads the runs
	host   *side                 // the file built on
	byKey  map[string]*RowChange // rows to replace or remove, by key
	added  []*RowChange          // rows to append after the last run
	header Header                // the merged file's
	eol    string
}

// rewrite reads the run and writes it out with the changes in. Located
// rows are checked to be what the change expects (one whole row with its
// key and old values) before they are replaced; if one is not, the run is
// parsed after all.
func (w *rewriter) rewrite(ctx context.Context, rr *rewriteRun) error {
	t, host, header, eol, byKey := w.table, w.host, w.header, w.eol, w.byKey
	last := rr.to == len(host.chunks)
	data, err := w.differ.readRun(ctx, host, rr.span)
	if err != nil {
		return err
	}
	defer w.differ.bufs.put(data)
	runOff := host.offs[rr.from] // file offset of data
	out := make([]byte, 0, len(data)+len(data)/8)
	if !rr.parse {
		ok := true
		for _, e := range rr.edits {
			row := data[e.off-runOff : e.end-runOff]
			rr.parsed += int64(len(row))
			if !isRow(t, host.header, row, e.c.Old, last && e.end-runOff == int64(len(data))) {
				ok = false
				break
			}
		}
		tail := int64(0) // where the rows after the last edit start
		if n := len(rr.edits); n > 0 {
			tail = rr.edits[n-1].end - runOff
		}
		if ok && last && len(w.added) > 0 && openAtEnd(t, data[tail:]) {
			ok = false // the last row is rewritten: see below
		}
		if ok {
			pos := int64(0)
			for _, e := range rr.edits {
				out = append(out, data[pos:e.off-runOff]...)
				pos = e.end - runOff
				rr.found = append(rr.found, e.c.Key)
				if e.c.Kind == RowRemoved {
					rr.removed++
					continue
				}
				rr.changed++
				out = t.AppendRow(out, header, e.c.New, eol)
			}
			out = append(out, data[pos:]...)
			rr.out = w.appendAdded(out, last)
			return nil
		}
	}
	rr.found, rr.changed, rr.removed = rr.found[:0], 0, 0
	body := data
	if rr.from == 0 {
		out = append(out, data[:host.hdrLen]...)
		body = data[host.hdrLen:]
	}
	rr.parsed += int64(len(body))
	err = t.Parse(host.header, body, last, func(r Row) error {
		c, ok := byKey[r.Key]
		if !ok {
			if last && len(w.added) > 0 && r.End == int64(len(body)) && openAtEnd(t, body[r.Off:r.End]) {
				// The file ends inside this row's quoted field: rows
				// added after it as it is would be read as part of it.
				out = t.AppendRow(out, header, &r, eol)
				return nil
			}
			out = append(out, body[r.Off:r.End]...)
			return nil
		}
		rr.found = append(rr.found, r.Key)
		if c.Kind == RowRemoved {
			rr.removed++
			return nil
		}
		rr.changed++
		out = t.AppendRow(out, header, c.New, eol)
		return nil
	})
	if err != nil {
		return err
	}
	rr.out = w.appendAdded(out, last)
	return nil
}

// appendAdded appends the rows added by the other side after the last
// run of the file.
func (w *rewriter) appendAdded(out []byte, last bool) []byte {
	if !last || len(w.added) == 0 {
		return out
	}
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, w.eol...)
	}
	for _, c := range w.added {
		out = w.table.AppendRow(out, w.header, c.New, w.eol)
	}
	return out
}

// openAtEnd reports whether rows, which start at a row boundary and end
// the file, end inside a quoted field even with a line end after them: a
// row appended after them would be read as part of that field.
func openAtEnd(t Table, rows []byte) bool {
	c := cutterOf(t)
	if !c.quoted || len(rows) == 0 {
		return false
	}
	_, ok := rowEnds(append(rows[:len(rows):len(rows)], '\n'), c, false)
	return !ok
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

// locate finds, without reading anything, where the new version holds a
// row of the old one: in a chunk the two versions share, at the same
// offset; in a run of changed chunks, among the rows equal at its start
// or its end or in between (skipped unparsed) or among the rows parsed.
// It returns the row's byte range in the new version's file; ok is false
// when the diff cannot tell. The caller checks the bytes there.
func (td *tableDiff) locate(old *Row) (off, end int64, ok bool) {
	oldSide, newSide := td.differ.sides[0], td.differ.sides[1]
	n := old.End - old.Off
	first, last := oldSide.chunkAt(old.Off), oldSide.chunkAt(old.End-1)
	if first < 0 || last < 0 {
		return 0, 0, false
	}
	if j := oldSide.partner[first]; j >= 0 && !oldSide.dirty[first] {
		// A chunk both versions hold, not read by the diff.
		for k := first + 1; k <= last; k++ {
			if oldSide.dirty[k] || oldSide.partner[k] != j+(k-first) {
				return 0, 0, false
			}
		}
		off = newSide.offs[j] + old.Off - oldSide.offs[first]
		return off, off + n, true
	}
	for _, u := range td.units {
		r := u.r[0]
		if r == nil || first < r.from || first >= r.to {
			continue
		}
		if u.r[1] == nil || last >= r.to {
			return 0, 0, false
		}
		oldMid, newMid := u.mid[0], u.mid[1]
		switch {
		case old.End <= oldMid[0]:
			off = old.Off - oldMid[0] + newMid[0]
			return off, off + n, true
		case old.Off >= oldMid[1]:
			off = old.Off - oldMid[1] + newMid[1]
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
