package profile

// A span's profile is cached as a head and a tail (see EncodeSpan): the
// tail holds the counts of the exact columns of many values that the
// head summarizes (their top values and registers). Merged from the
// cache, such a column's counts are needed only if the file's column
// ends up exact; until that is known, the span is noted on the column
// (pendTail), with its summary, and settleTails then reads the tails it
// needs or folds the summaries in.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// tails are what a column of merged spans' heads left for settleTails.
type tails struct {
	spans []int    // the spans whose counts are in their tails
	top   []valueN // their summaries' top values (copied)
	regs  *registers
}

// pendTail notes span at, whose counts of c are in its tail, with its
// summary: top values and registers r (a view of the entry: merged, not
// kept).
func (c *Column) pendTail(at int, top []valueN, r *registers) {
	if c.tails == nil {
		c.tails = &tails{regs: &registers{}}
		c.tails.regs.toDense()
	}
	t := c.tails
	t.spans = append(t.spans, at)
	for _, v := range top {
		t.top = append(t.top, valueN{slices.Clone(v.v), v.n})
	}
	t.regs.merge(r)
}

// mergeTails adds o's tails to c's.
func (c *Column) mergeTails(o *Column) {
	if o.tails == nil {
		return
	}
	if c.tails == nil {
		c.tails = o.tails
		return
	}
	c.tails.spans = append(c.tails.spans, o.tails.spans...)
	c.tails.top = append(c.tails.top, o.tails.top...)
	c.tails.regs.merge(o.tails.regs)
}

// tailsNeeded are the columns whose counts p's exact columns need from
// each span's tail.
func (p *Profile) tailsNeeded() map[int][]string {
	need := map[int][]string{}
	for _, c := range p.Columns {
		if c.tails != nil && !c.Over {
			for _, i := range c.tails.spans {
				need[i] = append(need[i], c.Name)
			}
		}
	}
	return need
}

// settleTails adds each column's tails, the columns at once: an exact
// column's counts from the spans' tails (decoded, by span), a column past
// its exact limits its spans' summaries, as mergeSummarized adds them.
func (p *Profile) settleTails(byspan map[int]map[string][]byte) error {
	errs := make([]error, len(p.Columns))
	var wg sync.WaitGroup
	for j, c := range p.Columns {
		if c.tails != nil {
			wg.Go(func() { errs[j] = c.settleTails(byspan) })
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (c *Column) settleTails(byspan map[int]map[string][]byte) error {
	t := c.tails
	c.tails = nil
	if c.Over {
		for _, v := range t.top {
			c.counts.add(v.v, v.n)
		}
		if c.regs == nil {
			c.regs = registersOf(c.counts)
		}
		c.regs.merge(t.regs)
		c.prune()
		return nil
	}
	for _, i := range t.spans {
		block, ok := byspan[i][c.Name]
		if !ok {
			return errCorrupt
		}
		cd := decoder{b: block}
		cd.pairs(func(v []byte, n int64) {
			c.counts.add(v, n)
			if c.regs != nil {
				c.regs.add(hashValue(v))
			}
		})
		if cd.bad || len(cd.b) != 0 {
			return errCorrupt
		}
		c.prune()
	}
	return nil
}

// decodeTail reads a tail EncodeSpan wrote: each column's counts, by
// name (viewed, not copied).
func decodeTail(b []byte) (map[string][]byte, bool) {
	if b == nil {
		return nil, true
	}
	d, ok := opened(b)
	if !ok {
		return nil, false
	}
	m := map[string][]byte{}
	for len(d.b) > 0 && !d.bad {
		name := d.string()
		m[name] = d.bytes()
	}
	return m, !d.bad
}

// tailKey is the key of span key k's tail.
func tailKey(k string) string { return k + "t" }

// readTails reads the tails of the spans need names (keys theirs),
// computing with compute those the cache lacks, or whose tail does not
// decode or lacks a column needed.
func readTails(ctx context.Context, cache Cache, need map[int][]string, keys []string, compute func(i int) ([]byte, error)) (map[int]map[string][]byte, error) {
	idx := make([]int, 0, len(need))
	for i := range need {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	ks := make([]string, len(idx))
	for j, i := range idx {
		ks[j] = tailKey(keys[i])
	}
	holds := func(i int, m map[string][]byte) bool {
		for _, name := range need[i] {
			if _, ok := m[name]; !ok {
				return false
			}
		}
		return true
	}
	out := make(map[int]map[string][]byte, len(idx))
	cache.Get(ctx, ks, func(j int, v []byte) {
		if m, ok := decodeTail(slices.Clone(v)); ok && holds(idx[j], m) {
			out[idx[j]] = m
		}
	})
	for _, i := range idx {
		if out[i] != nil {
			continue
		}
		tail, err := compute(i)
		if err != nil {
			return nil, err
		}
		m, ok := decodeTail(tail)
		if !ok || !holds(i, m) {
			return nil, fmt.Errorf("chunk span %d: its profile's tail lacks columns it summarizes: %w", i, errCorrupt)
		}
		out[i] = m
	}
	return out, nil
}
