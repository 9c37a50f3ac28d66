package repo

import (
	"context"
	"errors"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/check"
	"github.com/dxdata/dx/internal/csvdialect"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/store"
)

// A CSV is cut as the default dialect reads it (or at any line end, when
// its content did not look like CSV). In another dialect, or where a
// quoted field may hold a line end, its cuts are row ends only if each
// chunk, read from a record's start, ends a row: reading every chunk once
// tells, and what each one said is kept, so that a later version costs
// the chunks it changed.

// prefixRowEnds is the index's derived table of whether a chunk, read
// from a record's start in a CSV dialect, ends just after a row end:
// a<delimiter><quote><chunk id> → 1 or 0.
const prefixRowEnds = 'a'

// rowEnds is what the index keeps of chunks' row ends; the zero value
// keeps nothing.
type rowEnds struct {
	d  store.Derived
	ok bool
}

// rowEnds returns the kept row ends of chunks.
func (r *Repo) rowEnds() rowEnds {
	ix, err := r.Store.Derived(prefixRowEnds)
	return rowEnds{d: ix, ok: err == nil}
}

func rowEndsKey(d csvdialect.Dialect, id dag.ID) string {
	return string([]byte{d.Comma, d.Quote}) + string(id[:])
}

// get returns what is kept of chunks ids read in dialect d: 1 ends a row,
// 0 does not, -1 unknown.
func (e rowEnds) get(ctx context.Context, d csvdialect.Dialect, ids []dag.ID) []int8 {
	out := make([]int8, len(ids))
	for i := range out {
		out[i] = -1
	}
	if !e.ok || len(ids) == 0 {
		return out
	}
	keys := make([]string, len(ids))
	order := make([]int, len(ids))
	for i, id := range ids {
		keys[i], order[i] = rowEndsKey(d, id), i
	}
	sort.Slice(order, func(a, b int) bool { return keys[order[a]] < keys[order[b]] })
	sorted := make([]string, len(ids))
	for k, i := range order {
		sorted[k] = keys[i]
	}
	_ = e.d.GetSorted(ctx, sorted, func(k int, v []byte) {
		if len(v) == 1 && v[0] <= 1 {
			out[order[k]] = int8(v[0])
		}
	})
	return out
}

// put keeps what chunks read in dialect d said (a cache: a failed write
// costs a read later).
func (e rowEnds) put(ctx context.Context, d csvdialect.Dialect, ids []dag.ID, ends []bool) {
	if !e.ok || len(ids) == 0 {
		return
	}
	_ = e.d.Update(ctx, func(b *store.DerivedBatch) error {
		for i, id := range ids {
			v := []byte{0}
			if ends[i] {
				v[0] = 1
			}
			if err := b.Set(rowEndsKey(d, id), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// cutAtRowEnds reports whether every cut of the source is a row end of
// dialect d, but those after a chunk of maxChunk bytes or more (a row
// diff reads across those: see merge.DiffOptions). Chunks the index does
// not know are read on all cores, one at a time each, until one says no.
func (s *chunkSource) cutAtRowEnds(ctx context.Context, ends rowEnds, d csvdialect.Dialect, maxChunk int) (bool, error) {
	// The runs of chunks that must end a row: each but the last, with
	// those it reads across.
	type run struct{ from, to int }
	var runs []run
	from := 0
	for i, c := range s.chunks[:max(len(s.chunks)-1, 0)] {
		if int(c.Len) >= maxChunk {
			continue
		}
		runs = append(runs, run{from, i + 1})
		from = i + 1
	}
	// Runs of one chunk are kept by the chunk's id; the others, and
	// those not kept, are read.
	var ids []dag.ID
	for _, rn := range runs {
		if rn.to-rn.from == 1 {
			ids = append(ids, s.chunks[rn.from].ID)
		}
	}
	known := ends.get(ctx, d, ids)
	var todo []run
	var prefetch []int
	for _, rn := range runs {
		if rn.to-rn.from == 1 {
			v := known[0]
			known = known[1:]
			if v == 0 {
				return false, nil
			}
			if v == 1 {
				continue
			}
		}
		todo = append(todo, rn)
		for i := rn.from; i < rn.to; i++ {
			prefetch = append(prefetch, i)
		}
	}
	if len(todo) == 0 {
		return true, nil
	}
	s.Prefetch(ctx, prefetch)
	// said[k]: 1 if run k ends a row, 0 if not, -1 not read (one no
	// stops the reading).
	said := make([]int8, len(todo))
	for k := range said {
		said[k] = -1
	}
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	var next atomic.Int64
	errs := make([]error, len(todo))
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(todo)) {
		wg.Go(func() {
			var buf []byte
			for rctx.Err() == nil {
				k := int(next.Add(1) - 1)
				if k >= len(todo) {
					return
				}
				buf = buf[:0]
				var err error
				for i := todo[k].from; i < todo[k].to && err == nil; i++ {
					buf, err = s.AppendChunk(rctx, i, buf)
				}
				s.verifiedBytes.Add(int64(len(buf)))
				s.verifiedChunks.Add(int64(todo[k].to - todo[k].from))
				switch {
				case err != nil:
					errs[k] = err
					stop()
				case d.EndsRow(buf):
					said[k] = 1
				default:
					said[k] = 0
					stop()
				}
			}
		})
	}
	wg.Wait()
	// Keep what the runs of one chunk said.
	var putIDs []dag.ID
	var putEnds []bool
	no := false
	for k, rn := range todo {
		if said[k] >= 0 && rn.to-rn.from == 1 {
			putIDs, putEnds = append(putIDs, s.chunks[rn.from].ID), append(putEnds, said[k] == 1)
		}
		no = no || said[k] == 0
	}
	ends.put(context.WithoutCancel(ctx), d, putIDs, putEnds)
	if no {
		return false, nil
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	// The failure that stopped the others, not their being stopped.
	var first error
	for _, err := range errs {
		if err != nil && (first == nil || errors.Is(first, context.Canceled) && !errors.Is(err, context.Canceled)) {
			first = err
		}
	}
	return first == nil, first
}

// keepIngested keeps what a commit's reading of a new table as it was
// ingested (check.Ingested) learned of its chunks' ends in its dialect,
// so that they need not be read again to learn it.
func (r *Repo) keepIngested(ctx context.Context, in *check.Ingested, spec table.Spec, src *chunkSource) {
	d := spec.CSVDialect()
	if spec.Format != table.CSV || d == csvdialect.Default {
		return // cut at its row ends: nothing to learn
	}
	said := in.RowEnds(d, len(src.chunks))
	var ids []dag.ID
	var ends []bool
	for i, v := range said {
		if v >= 0 {
			ids, ends = append(ids, src.chunks[i].ID), append(ends, v == 1)
		}
	}
	r.rowEnds().put(ctx, d, ids, ends)
}

// CutAtRowEnds reports whether the stored file id, a table of spec at
// path name, is cut only at row ends (but after chunks of the line modes'
// greatest size), as a row diff, a merge or a check decides it: a reader
// may then parse a run of its chunks alone.
func (r *Repo) CutAtRowEnds(ctx context.Context, spec table.Spec, id dag.ID, name string) (bool, error) {
	src, err := storeSource(ctx, r.Store, id, name)
	if err != nil {
		return false, err
	}
	defer src.close()
	return src.rowAligned(ctx, spec, r.rowEnds())
}
