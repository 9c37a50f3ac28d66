package check

import (
	"context"
	"fmt"
	"hash/maphash"
	"slices"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
)

// ascending reports whether the keys of the spans ascend from row to row
// across the file: then none repeats.
func ascending(res []spanResult) bool {
	var prev *keyOrder
	for i := range res {
		k := &res[i].keys
		if k.n == 0 {
			continue
		}
		if !k.ascending || prev != nil && dag.CompareClassedKeys(k.first, k.firstInt, prev.last, prev.lastInt) <= 0 {
			return false
		}
		prev = k
	}
	return true
}

// unique checks that no key repeats in a version whose spans all parsed,
// their keys hashed: the hashes are sorted, and only where two are equal
// are those spans parsed again to compare the keys themselves.
func unique(ctx context.Context, t *table.Reader, v Version, h merge.Header, hdrLen int, ss []span, res []spanResult, seed maphash.Seed) error {
	n := 0
	for i := range res {
		n += len(res[i].hashes)
	}
	all := make([]uint64, 0, n)
	for i := range res {
		all = append(all, res[i].hashes...)
	}
	slices.Sort(all)
	dup := map[uint64]bool{}
	for i := 1; i < len(all); i++ {
		if all[i] == all[i-1] {
			dup[all[i]] = true
		}
	}
	if len(dup) == 0 {
		return nil
	}
	// Equal hashes: find the rows, in file order, and compare their keys.
	seen := map[string]int{} // key → line
	base := 0
	for i, s := range ss {
		r := &res[i]
		lineBase := base + r.hdrLines
		base += r.newlines
		if !slices.ContainsFunc(r.hashes, func(x uint64) bool { return dup[x] }) {
			continue
		}
		_, data, err := readSpan(ctx, v, s, hdrLen, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", v.Path, err)
		}
		var found error
		err = t.Parse(h, data, s.to == len(v.Source.Chunks()), func(row merge.Row) error {
			if !dup[maphash.String(seed, row.Key)] {
				return nil
			}
			line := lineBase + row.Line
			if at, ok := seen[row.Key]; ok {
				found = &Violation{Path: v.Path, Line: line, Msg: fmt.Sprintf("%v (first on line %d)", &merge.DuplicateKeyError{Key: row.Key}, at)}
				return found
			}
			seen[row.Key] = line
			return nil
		})
		if found != nil {
			return found
		}
		if err != nil {
			return violation(v.Path, lineBase, err)
		}
	}
	return nil
}
