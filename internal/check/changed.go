package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
)

// Changed checks a new version against an old one that is a table under
// the same spec: the row diff parses only what differs (a row it cannot
// parse is a violation), and each key it finds added must not be in the
// old version, which is looked up in the chunks whose key range could
// hold it (the chunks both versions share hold the same rows). If the old
// version is not a table after all, the new one is checked whole.
func Changed(ctx context.Context, t *table.Reader, old, new Version) error {
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

// lookup reports a key of keys that version v holds, reading only the
// spans with a chunk whose key range could hold one of them (or whose
// range is not known).
func lookup(ctx context.Context, t *table.Reader, v Version, h merge.Header, keys map[string]int64) (string, bool, error) {
	chunks := v.Source.Chunks()
	if len(chunks) == 0 {
		return "", false, nil
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	slices.SortFunc(sorted, dag.CompareKeys)
	candidate := make([]bool, len(chunks))
	for i := range candidate {
		candidate[i] = true
	}
	if kr, ok := v.Source.(merge.KeyRanger); ok {
		idx := make([]int, len(chunks))
		for i := range idx {
			idx[i] = i
		}
		ranges, known, err := kr.KeyRanges(ctx, h, idx)
		if err != nil {
			return "", false, err
		}
		for i, r := range ranges {
			if !known[i] {
				continue
			}
			j := sort.Search(len(sorted), func(j int) bool { return dag.CompareKeys(sorted[j], r.Lo) >= 0 })
			candidate[i] = j < len(sorted) && dag.CompareKeys(sorted[j], r.Hi) <= 0
		}
	}
	hdrLen := -1
	var buf []byte
	for _, s := range spans(chunks, v.Cut) {
		if !slices.Contains(candidate[s.from:s.to], true) {
			continue
		}
		buf = buf[:0]
		for c := s.from; c < s.to; c++ {
			var err error
			if buf, err = v.Source.AppendChunk(ctx, c, buf); err != nil {
				return "", false, fmt.Errorf("%s: %w", v.Path, err)
			}
		}
		data := buf
		if s.from == 0 {
			if hdrLen < 0 {
				_, n, err := header(ctx, t, v.Source)
				if err != nil {
					return "", false, fmt.Errorf("%s: %w", v.Path, err)
				}
				hdrLen = n
			}
			data = buf[hdrLen:]
		}
		var hit string
		stop := errors.New("found")
		err := t.Parse(h, data, s.to == len(chunks), func(row merge.Row) error {
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
