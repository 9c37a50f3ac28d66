package parquet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	pq "github.com/parquet-go/parquet-go"

	"github.com/dxdata/dx/internal/table/parquet/cdcwrite"
	"github.com/dxdata/dx/merge"
)

// MergeResult is a three-way merge of a Parquet table by key.
type MergeResult struct {
	// Conflicts are the keys both sides changed differently (sorted by
	// key); the result holds ours' version of each.
	Conflicts []merge.RowConflict
	// Added, Changed and Removed count theirs' row changes written into
	// the result.
	Added, Changed, Removed int
	// Unchanged: theirs brings nothing ours lacks, and nothing is
	// written; the result is ours.
	Unchanged bool
	Stats     merge.DiffStats // of the two row diffs
}

// streamChunks bounds the chunks kept while a file is read whole: enough
// for a row group's column chunks read side by side.
const streamChunks = 512

// ErrNoBase is returned by Merge when the table is not in the base: both
// sides added it, and there is nothing to merge rows against.
var ErrNoBase = errors.New("the table is not in the merge base")

// Merge merges theirs into ours, row by row by key, since base: the
// row changes of each side are its row diff against base (Diff), theirs'
// are applied to ours where ours left the key alone, and a key both sides
// changed to different outcomes is a conflict that keeps ours' row. The
// result is ours' rows in ours' order, each one theirs changed replaced
// in place and each one theirs removed left out, then the rows theirs
// added in theirs' order; it is written to out under base's schema by
// cdcwrite, with content-defined pages. A schema that differs between
// base and either side is a *SchemaChange, nothing written.
func Merge(ctx context.Context, key []string, base, ours, theirs merge.Source, out io.Writer) (res *MergeResult, err error) {
	if len(key) == 0 {
		return nil, errors.New("a Parquet table merges by key: set key= in .dxattributes")
	}
	if len(base.Chunks()) == 0 {
		return nil, ErrNoBase
	}
	dOurs, err := Diff(ctx, key, base, ours)
	if err != nil {
		return nil, sideOf(err, "ours")
	}
	dTheirs, err := Diff(ctx, key, base, theirs)
	if err != nil {
		return nil, sideOf(err, "theirs")
	}
	res = &MergeResult{}
	for _, d := range []*merge.RowDiff{dOurs, dTheirs} {
		res.Stats.BytesTotal += d.Stats.BytesTotal
		res.Stats.BytesRead += d.Stats.BytesRead
		res.Stats.BytesParsed += d.Stats.BytesParsed
		res.Stats.RowsDecoded += d.Stats.RowsDecoded
	}
	apply, conflicts := settle(dOurs.Changes, dTheirs.Changes)
	res.Conflicts = conflicts
	if len(apply) == 0 {
		res.Unchanged = true
		return res, nil
	}
	defer func() {
		if p := recover(); p != nil { // the library on a damaged file
			res, err = nil, invalid("not valid Parquet: %v", p)
		}
	}()
	bv, err := openVersion(ctx, base, false)
	if err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	ov, err := openVersion(ctx, ours, false)
	if err != nil {
		return nil, fmt.Errorf("ours: %w", err)
	}
	tv, err := openVersion(ctx, theirs, false)
	if err != nil {
		return nil, fmt.Errorf("theirs: %w", err)
	}
	// Ours and theirs are read whole, once: a few chunks at a time are
	// kept, not the file.
	ov.r.keep, tv.r.keep = streamChunks, streamChunks
	byKey := map[string]*merge.RowChange{}
	var added []string
	for _, c := range apply {
		byKey[c.Key] = c
		switch c.Kind {
		case merge.RowAdded:
			res.Added++
			added = append(added, c.Key)
		case merge.RowChanged:
			res.Changed++
		case merge.RowRemoved:
			res.Removed++
		}
	}
	// Theirs' rows for the keys it added or changed, as the library
	// reads them.
	theirRows := map[string]pq.Row{}
	err = eachRow(ctx, tv, key, func(k string, r pq.Row) error {
		if c := byKey[k]; c != nil && c.New != nil {
			theirRows[k] = r.Clone()
		}
		return nil
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("theirs: %w", err)
	}
	for k, c := range byKey {
		if _, ok := theirRows[k]; c.New != nil && !ok {
			return nil, fmt.Errorf("theirs: key %s, in its row diff, is not in the file", merge.ShowKey(k))
		}
	}
	w, err := cdcwrite.NewWriter(out, bv.f.Schema(), cdcwrite.DefaultOptions())
	if err != nil {
		return nil, err
	}
	// Ours' rows are valid until its next batch is read: each batch is
	// written before.
	var batch []pq.Row
	flush := func() error {
		_, err := w.WriteRows(batch)
		batch = batch[:0]
		return err
	}
	err = eachRow(ctx, ov, key, func(k string, r pq.Row) error {
		c := byKey[k]
		switch {
		case c == nil:
			batch = append(batch, r)
		case c.Kind == merge.RowChanged:
			batch = append(batch, theirRows[k])
		case c.Kind == merge.RowAdded:
			return fmt.Errorf("key %s, which theirs added, is in ours too", merge.ShowKey(k))
		}
		return nil
	}, flush)
	if err != nil {
		return nil, fmt.Errorf("ours: %w", err)
	}
	for _, k := range added {
		batch = append(batch, theirRows[k])
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return res, nil
}

// sideOf says which side a row diff's error against base is about: the
// base (SideError 0) or side.
func sideOf(err error, side string) error {
	var se *merge.SideError
	if errors.As(err, &se) {
		if se.Side == 0 {
			side = "base"
		}
		err = se.Err
	}
	return fmt.Errorf("%s: %w", side, err)
}

// settle decides, for each of theirs' row changes, whether it is applied
// to ours (ours left the key alone), is the outcome ours reached too (both
// removed it, or both made it the same row), or is a conflict.
func settle(ours, theirs []merge.RowChange) (apply []*merge.RowChange, conflicts []merge.RowConflict) {
	mine := make(map[string]*merge.RowChange, len(ours))
	for i := range ours {
		mine[ours[i].Key] = &ours[i]
	}
	for i := range theirs {
		c := &theirs[i]
		h, both := mine[c.Key]
		switch {
		case !both:
			apply = append(apply, c)
		case sameRow(h.New, c.New):
		default:
			conflicts = append(conflicts, merge.RowConflict{Key: c.Key, Base: c.Old, Ours: h.New, Theirs: c.New})
		}
	}
	sort.Slice(conflicts, func(i, j int) bool { return conflicts[i].Key < conflicts[j].Key })
	return apply, conflicts
}

// sameRow: both absent, or the same values in the same columns.
func sameRow(a, b *merge.Row) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return slices.Equal(a.Cols, b.Cols) && slices.Equal(a.Vals, b.Vals)
}

// eachRow reads every row of v in file order and hands it, with its key
// (as Diff keys rows), to f; rows are read in batches, and a row is valid
// until done (if set) returns after its batch.
func eachRow(ctx context.Context, v *version, key []string, f func(k string, r pq.Row) error, done func() error) error {
	if v.f == nil {
		return nil
	}
	var keyIdx, leafAt, leafCounts []int
	n := 0
	for _, fl := range v.fields {
		leafAt = append(leafAt, n)
		leafCounts = append(leafCounts, leaves(fl))
		n += leaves(fl)
	}
	for _, c := range key {
		i := slices.Index(v.cols, c)
		if i < 0 {
			return invalid("key column %q is not in the schema (%s)", c, strings.Join(v.cols, ", "))
		}
		keyIdx = append(keyIdx, i)
	}
	cols := make([][]pq.Value, n)
	a := &assembler{}
	parts := make([]string, len(keyIdx))
	buf := make([]pq.Row, 256)
	for g, rg := range v.f.RowGroups() {
		rows := rg.Rows()
		for {
			if err := ctx.Err(); err != nil {
				rows.Close()
				return err
			}
			m, err := rows.ReadRows(buf)
			for _, pr := range buf[:m] {
				for i := range cols {
					cols[i] = cols[i][:0]
				}
				for _, val := range pr {
					if c := val.Column(); c >= 0 && c < n {
						cols[c] = append(cols[c], val)
					}
				}
				for i, j := range keyIdx {
					a.buf = a.buf[:0]
					if err := a.column(v.fields[j], 0, 0, cols[leafAt[j]:leafAt[j]+leafCounts[j]]); err != nil {
						rows.Close()
						return invalid("row group %d: key column %q: %v", g, v.cols[j], err)
					}
					parts[i] = jsonText(string(a.buf))
				}
				if err := f(strings.Join(parts, merge.KeySep), pr); err != nil {
					rows.Close()
					return err
				}
			}
			if done != nil {
				if err := done(); err != nil {
					rows.Close()
					return err
				}
			}
			if err == io.EOF || (m == 0 && err == nil) {
				break
			}
			if err != nil {
				rows.Close()
				return invalid("row group %d: %v", g, err)
			}
		}
		rows.Close()
	}
	return nil
}
