package merge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

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
	return mergeRows(ctx, mergeInput{table: t, base: base, ours: ours, theirs: theirs, opts: o}, mergePolicy{})
}

// mergeInput is what a row merge reads: the table's format, its three
// versions, and what may be assumed of their chunk boundaries.
type mergeInput struct {
	table              Table
	base, ours, theirs Source
	opts               DiffOptions
}

// mergePolicy says which shortcuts a row merge takes; the zero value, all
// of them. They change what the merge reads and parses, never its result.
// MergeRows falls back to noRanges when a run of theirs taken unread
// cannot be placed; tests (export_test.go) set the others, to check that
// the result is the same without them and that a row found misplaced is
// noticed.
type mergePolicy struct {
	// noRanges: key ranges are not used, every changed run of theirs is
	// read (a run taken unread could not be placed).
	noRanges bool
	// noShortcuts: no run taken whole, both sides diffed in full.
	noShortcuts bool
	// misplace shifts where rows are looked for by this many bytes, so
	// that the check of what is found there is exercised.
	misplace int64
}

// mergeRows is MergeRows under a policy. The diff base → the host side
// (the side the merge is built on) gives the file whose chunks are kept;
// the diff base → the other side gives the changes written into it.
func mergeRows(ctx context.Context, in mergeInput, policy mergePolicy) (*RowMerge, error) {
	if !in.table.Keyed() {
		return nil, errors.New("a table without a key column cannot be merged row by row")
	}
	oursDiff, theirsDiff, blind, err := mergeDiffs(ctx, in, policy)
	if err != nil {
		return nil, err
	}
	baseCols, oursCols, theirsCols := oursDiff.OldHeader.Cols, oursDiff.NewHeader.Cols, theirsDiff.NewHeader.Cols
	onTheirs := false
	switch oursChanged, theirsChanged := !slices.Equal(oursCols, baseCols), !slices.Equal(theirsCols, baseCols); {
	case oursChanged && theirsChanged && !slices.Equal(oursCols, theirsCols):
		return nil, ErrHeaderConflict
	case theirsChanged && !oursChanged:
		onTheirs = true
	}
	host, other := oursDiff, theirsDiff
	if onTheirs {
		host, other = theirsDiff, oursDiff
	}
	res := &RowMerge{Header: host.NewHeader, OnTheirs: onTheirs}
	res.Stats = addStats(oursDiff.Stats, theirsDiff.Stats)
	var apply []*RowChange
	apply, res.Conflicts = settle(host, other, baseCols, onTheirs)
	if len(apply) == 0 && len(blind) == 0 {
		res.Unchanged = true
		hostNew := host.differ.sides[1]
		for i, c := range hostNew.chunks {
			res.Pieces = append(res.Pieces, Piece{Chunk: &c, Off: hostNew.offs[i]})
		}
		return res, nil
	}
	var takes []*take
	var links map[*unit][]*unit
	if !onTheirs && in.opts.Aligned && !policy.noShortcuts {
		takes, links = findTakes(host, other, apply)
	}
	for _, u := range other.units { // (blind: onTheirs is false, headers being equal)
		if r := u.r[0]; r != nil && blind[*r] {
			j, ok := takeable(host.differ.sides[0], other.differ.sides[1], u)
			if !ok { // (not expected: rangedDiffs checked it)
				policy.noRanges = true
				return mergeRows(ctx, in, policy)
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
		if err := rewrite(ctx, in, host, rest, policy.misplace, res); err != nil {
			return nil, err
		}
		left := closeTakes(placeTakes(res, host, other, takes), links)
		if len(left) == len(takes) {
			break
		}
		if slices.ContainsFunc(takes, func(tk *take) bool { return tk.blind && !slices.Contains(left, tk) }) {
			// Its changes are not known, to be written in elsewhere.
			policy.noRanges = true
			return mergeRows(ctx, in, policy)
		}
		takes = left // some run around a take was rewritten: apply its changes there
	}
	res.countTakes(takes)
	return res, nil
}

// settle decides, for each row change of the other side, whether it is
// to be applied to the host side, is an outcome the host side reached
// too, or is a conflict (sorted by key).
func settle(host, other *tableDiff, baseCols []string, onTheirs bool) (apply []*RowChange, conflicts []RowConflict) {
	hostChanges := make(map[string]*RowChange, len(host.Changes))
	for i := range host.Changes {
		hostChanges[host.Changes[i].Key] = &host.Changes[i]
	}
	for i := range other.Changes {
		c := &other.Changes[i]
		h, both := hostChanges[c.Key]
		switch {
		case !both:
			apply = append(apply, c)
		case sameOutcome(h, c):
		case h.Kind == RowChanged && len(baseCols) > 0 && len(baseColumns(h, baseCols)) == 0:
			// The host side only filled in columns it added to the
			// header: the other side's change (or removal) goes on top.
			// (A JSONL table has no header: any field changed on both
			// sides is a conflict.)
			if c.Kind == RowRemoved {
				apply = append(apply, c)
				break
			}
			m := &RowChange{Kind: RowChanged, Key: c.Key, Old: c.Old, New: overlay(h.New, c.New, c.Columns)}
			apply = append(apply, m)
		default:
			rc := RowConflict{Key: c.Key, Base: c.Old, Ours: h.New, Theirs: c.New}
			if onTheirs {
				rc.Ours, rc.Theirs = c.New, h.New
			}
			conflicts = append(conflicts, rc)
		}
	}
	sort.Slice(conflicts, func(i, j int) bool { return conflicts[i].Key < conflicts[j].Key })
	return apply, conflicts
}

// countTakes adds the changes of the takes placed to the counts.
func (res *RowMerge) countTakes(takes []*take) {
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
func mergeDiffs(ctx context.Context, in mergeInput, policy mergePolicy) (oursDiff, theirsDiff *tableDiff, blind map[span]bool, err error) {
	inPart := !policy.noShortcuts
	if inPart && !policy.noRanges && in.opts.Aligned {
		if oursDiff, theirsDiff, blind, err = rangedDiffs(ctx, in); err != nil || blind != nil {
			return oursDiff, theirsDiff, blind, err
		}
	}
	oursDiff, theirsDiff, err = mergeDiffsUnranged(ctx, in, inPart)
	return oursDiff, theirsDiff, nil, err
}

func mergeDiffsUnranged(ctx context.Context, in mergeInput, inPart bool) (oursDiff, theirsDiff *tableDiff, err error) {
	if theirsDiff, err = diffRows(ctx, in.table, in.base, in.theirs, in.opts, nil); err != nil {
		return nil, nil, fmt.Errorf("theirs: %w", err)
	}
	partial := inPart && in.opts.Aligned && slices.Equal(theirsDiff.OldHeader.Cols, theirsDiff.NewHeader.Cols) &&
		!slices.ContainsFunc(theirsDiff.Changes, func(c RowChange) bool { return c.Kind == RowAdded })
	if partial {
		touched := theirsDiff.differ.sides[0].dirty // base chunks theirs changed (or read around a change)
		oursDiff, err = diffRows(ctx, in.table, in.base, in.ours, in.opts, func(from, to int) bool {
			return slices.Contains(touched[from:to], true)
		})
		if err == nil && slices.Equal(oursDiff.OldHeader.Cols, oursDiff.NewHeader.Cols) &&
			!slices.ContainsFunc(oursDiff.Changes, func(c RowChange) bool { return c.Kind != RowChanged }) {
			return oursDiff, theirsDiff, nil
		}
	}
	if oursDiff, err = diffRows(ctx, in.table, in.base, in.ours, in.opts, nil); err != nil {
		return nil, nil, fmt.Errorf("ours: %w", err)
	}
	return oursDiff, theirsDiff, nil
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
