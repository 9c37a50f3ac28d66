package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/contract"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
)

// Changed checks a new version against an old one that is a table under
// the same spec: by the new version's fresh chunks alone where it can
// (see changedFresh); else the row diff parses only what differs (a row it cannot
// parse is a violation), and each key it finds added must not be in the
// old version, which is looked up in the chunks whose key range could
// hold it (the chunks both versions share hold the same rows). If the old
// version is not a table after all, the new one is checked whole.
func Changed(ctx context.Context, t *table.Reader, old, new Version) error {
	if done, err := changedFresh(ctx, t, old, new); done {
		return err
	}
	o := merge.DiffOptions{Aligned: old.Cut.Aligned && new.Cut.Aligned, MaxChunk: new.Cut.MaxChunk}
	rd, err := merge.DiffRows(ctx, t, old.Source, new.Source, o)
	if err != nil {
		var se *merge.SideError
		if !errors.As(err, &se) || !errors.Is(err, merge.ErrInvalidRows) {
			return fmt.Errorf("%s: %w", new.Path, err)
		}
		var le *merge.LineError
		if se.Side == 1 && errors.As(se.Err, &le) {
			return &Violation{Path: new.Path, Line: le.Line, Msg: le.Err.Error()}
		}
		// The old version does not parse, or the new one repeats a key
		// (Full says where).
		return Full(ctx, t, new)
	}
	if err := addedKeys(ctx, t, old, new, rd); err != nil {
		return err
	}
	return changedRules(ctx, t, old, new, rd)
}

// addedKeys checks that no key the diff finds added is in the old
// version already.
func addedKeys(ctx context.Context, t *table.Reader, old, new Version, rd *merge.RowDiff) error {
	if !t.Keyed() {
		return nil
	}
	added := map[string]int64{} // key → offset of its row in new
	for _, c := range rd.Changes {
		if c.Kind == merge.RowAdded {
			added[c.Key] = c.New.Off
		}
	}
	if len(added) == 0 {
		return nil
	}
	key, found, err := lookup(ctx, t, old, rd.OldHeader, added)
	if err != nil || !found {
		return err
	}
	line, err := lineAt(ctx, new.Source, added[key])
	if err != nil {
		return err
	}
	return &Violation{Path: new.Path, Line: line, Msg: fmt.Sprintf("%v (the table has it already)", &merge.DuplicateKeyError{Key: key})}
}

// changedRules checks the rows the diff finds added or changed (and the
// header) against the new version's further rules. Only the first broken
// rule's line is looked for: it costs a read of the file up to it.
func changedRules(ctx context.Context, t *table.Reader, old, new Version, rd *merge.RowDiff) error {
	if old.Rows == nil && new.Rules != nil && new.Rules.CountsRows() {
		// The contract bounds the count and the old one is not known:
		// the new version is checked whole, once (the caller keeps its
		// count for the next).
		return Full(ctx, t, new)
	}
	rows := int64(-1)
	if old.Rows != nil {
		added, removed, _ := rd.Counts()
		rows = *old.Rows + int64(added-removed)
	}
	if new.Rules == nil {
		if new.Count != nil && rows >= 0 {
			*new.Count = rows
		}
		return nil
	}
	var broken ruleCount
	broken.add(1, new.Rules.Header(rd.NewHeader.Cols))
	var problems []contract.Problem
	first := int64(-1) // the offset of the first row (in the file) that breaks one
	for _, c := range rd.Changes {
		if c.New == nil {
			continue
		}
		problems = new.Rules.Row(*c.New, problems[:0])
		if len(problems) > 0 && broken.line != 1 && (first < 0 || c.New.Off < first) {
			first, broken.first = c.New.Off, problems[0]
		}
		broken.n += len(problems)
	}
	hits, err := changedUnique(ctx, t, old, new, rd)
	if err != nil {
		return err
	}
	for _, h := range hits {
		if broken.line != 1 && (first < 0 || h.off < first) {
			first, broken.first = h.off, h.p
		}
		broken.n++
	}
	if first >= 0 {
		line, err := lineAt(ctx, new.Source, first)
		if err != nil {
			return err
		}
		broken.line = line
	}
	if rows < 0 {
		return broken.violation(new.Path)
	}
	return counted(new, rows, &broken)
}

// lookup reports a key of keys that version v holds, reading only the
// spans with a chunk whose key range could hold one of them (or whose
// range is not known).
func lookup(ctx context.Context, t *table.Reader, v Version, h merge.Header, keys map[string]int64) (string, bool, error) {
	if len(v.Source.Chunks()) == 0 || len(keys) == 0 {
		return "", false, nil
	}
	candidate, err := keyCandidates(ctx, v, h, slices.Collect(maps.Keys(keys)), nil)
	if err != nil {
		return "", false, err
	}
	return lookupIn(ctx, t, v, h, keys, candidate, nil)
}

// lookupIn is lookup over the chunks candidate marks (see keyCandidates),
// and of those only the spans only allows (nil: all).
func lookupIn(ctx context.Context, t *table.Reader, v Version, h merge.Header, keys map[string]int64, candidate []bool, only func(span) bool) (string, bool, error) {
	chunks := v.Source.Chunks()
	if len(chunks) == 0 || len(keys) == 0 {
		return "", false, nil
	}
	hdrLen := -1
	var buf []byte
	for _, s := range spans(v.Source, v.Cut) {
		if !slices.Contains(candidate[s.from:s.to], true) || only != nil && !only(s) {
			continue
		}
		if s.from == 0 && hdrLen < 0 {
			_, n, err := header(ctx, t, v.Source)
			if err != nil {
				return "", false, fmt.Errorf("%s: %w", v.Path, err)
			}
			hdrLen = n
		}
		var data []byte
		var err error
		if buf, data, err = readSpan(ctx, v, s, hdrLen, buf[:0]); err != nil {
			return "", false, fmt.Errorf("%s: %w", v.Path, err)
		}
		var hit string
		stop := errors.New("found")
		err = t.Parse(h, data, s.to == len(chunks), func(row merge.Row) error {
			if _, ok := keys[row.Key]; ok {
				hit = row.Key
				return stop
			}
			return nil
		})
		if errors.Is(err, stop) {
			return hit, true, nil
		}
		if err != nil {
			return "", false, fmt.Errorf("%s: %w", v.Path, err)
		}
	}
	return "", false, nil
}

// keyCandidates marks the chunks of v whose key range could hold one of
// keys (which it sorts: fastest when they about ascend), or whose range
// is not known; from ahead's ranges if set.
func keyCandidates(ctx context.Context, v Version, h merge.Header, keys []string, ahead *rangesAhead) ([]bool, error) {
	chunks := v.Source.Chunks()
	candidate := make([]bool, len(chunks))
	for i := range candidate {
		candidate[i] = true
	}
	if ahead == nil {
		if ahead = lookupRanges(ctx, v, h); ahead == nil {
			return candidate, nil
		}
	}
	ahead.wait()
	if ahead.err != nil {
		return nil, ahead.err
	}
	sorted := keys
	slices.SortFunc(sorted, dag.CompareKeys)
	for i, r := range ahead.ranges {
		if !ahead.known[i] {
			continue
		}
		j := sort.Search(len(sorted), func(j int) bool { return dag.CompareKeys(sorted[j], r.Lo) >= 0 })
		candidate[i] = j < len(sorted) && dag.CompareKeys(sorted[j], r.Hi) <= 0
	}
	return candidate, nil
}

// rangesAhead are the key ranges of a version's chunks, being looked up
// (in the index) until done closes: while the rows that need them are
// parsed.
type rangesAhead struct {
	done   chan struct{}
	ranges []dag.KeyRange
	known  []bool
	err    error
}

// lookupRanges starts looking up the key ranges of v's chunks, or returns
// nil if its source keeps none.
func lookupRanges(ctx context.Context, v Version, h merge.Header) *rangesAhead {
	kr, ok := v.Source.(merge.KeyRanger)
	if !ok {
		return nil
	}
	a := &rangesAhead{done: make(chan struct{})}
	go func() {
		defer close(a.done)
		idx := make([]int, len(v.Source.Chunks()))
		for i := range idx {
			idx[i] = i
		}
		a.ranges, a.known, a.err = kr.KeyRanges(ctx, h, idx)
	}()
	return a
}

// wait waits until the lookup is done (a nil a: at once).
func (a *rangesAhead) wait() {
	if a != nil {
		<-a.done
	}
}

// lineAt is the 1-based line of the byte at off.
func lineAt(ctx context.Context, src merge.Source, off int64) (int, error) {
	lines := 1
	var pos int64
	var buf []byte
	for i := range src.Chunks() {
		if pos >= off {
			break
		}
		var err error
		if buf, err = src.AppendChunk(ctx, i, buf[:0]); err != nil {
			return 0, err
		}
		b := buf
		if pos+int64(len(b)) > off {
			b = b[:off-pos]
		}
		lines += bytes.Count(b, []byte{'\n'})
		pos += int64(len(buf))
	}
	return lines, nil
}
