package check

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
)

// A version cut only at row ends shares with the old one every chunk that
// holds rows both keep, byte for byte. Where the old version was checked,
// those rows keep the rules already: only the new version's other chunks,
// its fresh spans, are read, and the old version not at all unless a key
// must be looked for.

// freshPlan splits a new version's spans into fresh ones and those whose
// chunks the old version holds in the same order, rows and all.
type freshPlan struct {
	fresh []span
	// oldShared marks the old version's spans (by their first chunk)
	// that hold rows the new one keeps: one of the new version's shared
	// spans has their chunks.
	oldShared   map[int]bool
	firstShared bool  // the new version's first span (with the header) is the old one's
	oldOnly     int64 // bytes of the old version's spans that are not shared
}

// seqKey names a span by its chunks' ids.
func seqKey(chunks []dag.ChunkRef, s span) string {
	var b strings.Builder
	for _, c := range chunks[s.from:s.to] {
		b.Write(c.ID[:])
	}
	return b.String()
}

// planFresh finds the fresh spans of new against old. A chunk counts as
// shared only as often as the old version has it, and the first span (the
// header's) only if it is the old version's first span too.
func planFresh(old, new Version) freshPlan {
	oc, nc := old.Source.Chunks(), new.Source.Chunks()
	oldSpans := spans(old.Source, old.Cut)
	oldKeys := make([]string, len(oldSpans))
	have := map[string]int{}
	for i, s := range oldSpans {
		oldKeys[i] = seqKey(oc, s)
		if i > 0 {
			have[oldKeys[i]]++
		}
	}
	p := freshPlan{oldShared: map[int]bool{}}
	shared := map[string]bool{}
	for i, s := range spans(new.Source, new.Cut) {
		k := seqKey(nc, s)
		switch {
		case i == 0 && k == oldKeys[0]:
			p.firstShared = true
		case i > 0 && have[k] > 0:
			have[k]--
		default:
			p.fresh = append(p.fresh, s)
			continue
		}
		shared[k] = true
	}
	for i, s := range oldSpans {
		if shared[oldKeys[i]] && (i > 0 || p.firstShared) {
			p.oldShared[s.from] = true
			continue
		}
		for _, c := range oc[s.from:s.to] {
			p.oldOnly += int64(c.Len)
		}
	}
	return p
}

// sharedSpan reports whether an old span holds rows the new version keeps.
func (p *freshPlan) sharedSpan(s span) bool { return p.oldShared[s.from] }

// changedFresh checks new against old by reading new's fresh spans. It
// reports false, having read nothing, where that is not enough: a version
// not cut only at row ends, a contract that bounds the row count or has
// unique columns besides the key (the row diff knows which old rows went),
// or a header that changed. The new version's row count is then not
// learnt.
func changedFresh(ctx context.Context, t *table.Reader, old, new Version) (bool, error) {
	oc, nc := old.Source.Chunks(), new.Source.Chunks()
	if !old.Cut.Aligned || !new.Cut.Aligned || len(oc) == 0 || len(nc) == 0 ||
		len(merge.CutsInsideRows(old.Source)) > 0 || len(merge.CutsInsideRows(new.Source)) > 0 ||
		new.Rules != nil && new.Rules.CountsRows() || len(uniqueColumns(new)) > 0 {
		return false, nil
	}
	plan := planFresh(old, new)
	h, hdrLen, err := header(ctx, t, new.Source)
	if err != nil {
		return true, violation(new.Path, 0, err)
	}
	if !plan.firstShared {
		// The old header, from its first chunks, must be the new one.
		oh, _, err := header(ctx, t, old.Source)
		if err != nil || !slices.Equal(oh.Cols, h.Cols) {
			return false, nil
		}
	}
	p := pass{t: t, v: new, h: h, hdrLen: hdrLen, ss: plan.fresh, seed: maphash.MakeSeed(), keep: t.Keyed()}
	var ahead *rangesAhead // the old chunks' key ranges, looked up meanwhile
	if t.Keyed() {
		ahead = lookupRanges(ctx, old, h)
		defer ahead.wait()
	}
	res, err := p.run(ctx, false)
	if err != nil {
		return true, err
	}
	for i := range res {
		if r := &res[i]; r.err != nil {
			base, err := linesBefore(ctx, new.Source, plan.fresh[i])
			if err != nil {
				return true, err
			}
			return true, violation(new.Path, base+r.hdrLines, r.err)
		}
	}
	if t.Keyed() {
		if err := freshKeys(ctx, t, old, new, &p, &plan, res, ahead); err != nil {
			return true, err
		}
	}
	var broken ruleCount
	if new.Rules != nil {
		broken.add(1, new.Rules.Header(h.Cols))
	}
	for i := range res {
		b := res[i].broken
		if b.n == 0 {
			continue
		}
		if broken.n == 0 {
			base, err := linesBefore(ctx, new.Source, plan.fresh[i])
			if err != nil {
				return true, err
			}
			broken.line, broken.first = base+res[i].hdrLines+b.line, b.first
		}
		broken.n += b.n
	}
	return true, broken.violation(new.Path)
}

// freshKeys checks that the keys of the fresh rows repeat neither among
// themselves nor in the spans both versions share. It looks in the shared
// spans whose key range could hold one; if those hold more bytes than the
// old version's spans that are not shared, it first reads those: a key
// the old version had there left with its old row (the old keys were
// unique), so it is not in a shared span.
func freshKeys(ctx context.Context, t *table.Reader, old, new Version, p *pass, plan *freshPlan, res []spanResult, ahead *rangesAhead) error {
	var order []string // the fresh keys in file order
	for i := range res {
		order = append(order, res[i].keyList...)
	}
	// Keys that ascend in file order (rows appended and edited in key
	// order, the usual) repeat nowhere among themselves; else the map
	// finds the first that does.
	var keys map[string]int64 // key → index of its fresh span
	if !slices.IsSortedFunc(order, compareDistinct) {
		var err error
		if keys, err = freshKeyMap(ctx, t, new, p, plan, res); err != nil {
			return err
		}
	}
	oc := old.Source.Chunks()
	cand, err := keyCandidates(ctx, old, p.h, order, ahead)
	if err != nil {
		return err
	}
	var candBytes int64
	for _, s := range spans(old.Source, old.Cut) {
		if plan.sharedSpan(s) && slices.Contains(cand[s.from:s.to], true) {
			for _, c := range oc[s.from:s.to] {
				candBytes += int64(c.Len)
			}
		}
	}
	if candBytes == 0 {
		return nil // no shared span could hold one
	}
	if keys == nil {
		if keys, err = freshKeyMap(ctx, t, new, p, plan, res); err != nil {
			return err
		}
	}
	if candBytes > plan.oldOnly {
		if err := dropOldKeys(ctx, t, old, p.h, keys, func(s span) bool { return !plan.sharedSpan(s) }); err != nil {
			return err
		}
	}
	// The candidates found for every key hold for those left.
	key, hit, err := lookupIn(ctx, t, old, p.h, keys, cand, plan.sharedSpan)
	if err != nil || !hit {
		return err
	}
	lines, err := keyLines(ctx, t, new, p, plan.fresh[keys[key]], key)
	if err != nil {
		return err
	}
	return &Violation{Path: new.Path, Line: lines[0], Msg: fmt.Sprintf("%v (the table has it already)", &merge.DuplicateKeyError{Key: key})}
}

// compareDistinct orders keys, a repeated key as out of order (for
// IsSortedFunc: strictly ascending keys are distinct).
func compareDistinct(a, b string) int {
	if c := dag.CompareKeys(a, b); c != 0 {
		return c
	}
	return -1 // IsSortedFunc asks whether each key is less than the one before
}

// freshKeyMap maps each fresh key to the index of its fresh span, or
// returns the Violation of the first that repeats.
func freshKeyMap(ctx context.Context, t *table.Reader, new Version, p *pass, plan *freshPlan, res []spanResult) (map[string]int64, error) {
	keys := map[string]int64{}
	for i := range res {
		for _, k := range res[i].keyList {
			if j, dup := keys[k]; dup {
				return nil, freshDuplicate(ctx, t, new, p, plan.fresh, int(j), i, k)
			}
			keys[k] = int64(i)
		}
	}
	return keys, nil
}

// dropOldKeys removes from keys those the spans of old that only allows
// hold.
func dropOldKeys(ctx context.Context, t *table.Reader, old Version, h merge.Header, keys map[string]int64, only func(span) bool) error {
	oc := old.Source.Chunks()
	hdrLen := -1
	var buf []byte
	for _, s := range spans(old.Source, old.Cut) {
		if !only(s) {
			continue
		}
		if s.from == 0 {
			_, n, err := header(ctx, t, old.Source)
			if err != nil {
				return fmt.Errorf("%s: old version: %w", old.Path, err)
			}
			hdrLen = n
		}
		var data []byte
		var err error
		if buf, data, err = readSpan(ctx, old, s, hdrLen, buf[:0]); err != nil {
			return fmt.Errorf("%s: %w", old.Path, err)
		}
		err = t.Parse(h, data, s.to == len(oc), func(row merge.Row) error {
			delete(keys, row.Key)
			return nil
		})
		if err != nil {
			return fmt.Errorf("%s: old version: %w", old.Path, err)
		}
	}
	return nil
}

// freshDuplicate is the violation of a key that fresh spans a and b (a ≤
// b) both hold, at its second row.
func freshDuplicate(ctx context.Context, t *table.Reader, v Version, p *pass, fresh []span, a, b int, key string) error {
	first, err := keyLines(ctx, t, v, p, fresh[a], key)
	if err != nil {
		return err
	}
	second := first
	if b != a {
		if second, err = keyLines(ctx, t, v, p, fresh[b], key); err != nil {
			return err
		}
		second = append(first[:1:1], second...)
	}
	if len(second) < 2 {
		return fmt.Errorf("%s: key %q not found again", v.Path, key)
	}
	return &Violation{Path: v.Path, Line: second[1], Msg: fmt.Sprintf("%v (first on line %d)", &merge.DuplicateKeyError{Key: key}, second[0])}
}

// keyLines reads span s of v again and returns the lines of its rows with
// key (on a violation only).
func keyLines(ctx context.Context, t *table.Reader, v Version, p *pass, s span, key string) ([]int, error) {
	whole, data, err := readSpan(ctx, v, s, p.hdrLen, nil)
	if err != nil {
		return nil, err
	}
	base, err := linesBefore(ctx, v.Source, s)
	if err != nil {
		return nil, err
	}
	_, hdrLines := lines(whole, data)
	var out []int
	err = t.Parse(p.h, data, s.to == len(v.Source.Chunks()), func(row merge.Row) error {
		if row.Key == key {
			out = append(out, base+hdrLines+row.Line)
		}
		return nil
	})
	if err == nil && len(out) == 0 {
		err = errors.New("key not found again")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", v.Path, err)
	}
	return out, nil
}

// linesBefore counts the line ends before span s (read on a violation
// only).
func linesBefore(ctx context.Context, src merge.Source, s span) (int, error) {
	var off int64
	for _, c := range src.Chunks()[:s.from] {
		off += int64(c.Len)
	}
	line, err := lineAt(ctx, src, off)
	return line - 1, err
}
