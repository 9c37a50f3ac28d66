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
// quoted field may hold a line end, a cut is a row end only if reading
// the file from its start to the cut ends outside a quoted field, just
// after a line end. What each chunk does to the reading state, from each
// state (csvdialect.Transitions), is learned by reading it once and kept,
// so that a version's cuts are composed from its chunks' kept transitions
// and a later version costs the chunks it changed. The cuts that fall
// inside a row are then known one by one: a row diff reads across those
// alone (merge.RowCutter), not the whole file.

// prefixRowEnds is the index's derived table of what a chunk does to the
// reading state of a CSV dialect: a<delimiter><quote><chunk id> → two
// bytes, 0x80|NL and the end states (csvdialect.Transitions.Encode).
// (One byte, 1, was kept by earlier versions for a chunk that ends a row
// read from a record's start.)
const prefixRowEnds = 'a'

// rowEnds is what the index keeps of chunks' transitions; the zero value
// keeps nothing.
type rowEnds struct {
	d  store.Derived
	ok bool
}

// rowEnds returns the kept transitions of chunks.
func (r *Repo) rowEnds() rowEnds {
	ix, err := r.Store.Derived(prefixRowEnds)
	return rowEnds{d: ix, ok: err == nil}
}

func rowEndsKey(d csvdialect.Dialect, id dag.ID) string {
	return string([]byte{d.Comma, d.Quote}) + string(id[:])
}

// keptEnds is what is kept of a chunk's transitions.
type keptEnds struct {
	t csvdialect.Transitions
	// known: t is whole; fromStart: only that read from a record's start
	// the chunk ends a row (an earlier version's entry).
	known, fromStart bool
}

// next is the state after the chunk read from s and whether it then ends
// a row; ok false if what is kept does not say.
func (k keptEnds) next(s csvdialect.State) (csvdialect.State, bool, bool) {
	switch {
	case k.known:
		e, end := k.t.Next(s)
		return e, end, true
	case k.fromStart && s == csvdialect.FieldStart:
		return csvdialect.FieldStart, true, true
	}
	return 0, false, false
}

// get returns what is kept of chunks ids read in dialect d.
func (e rowEnds) get(ctx context.Context, d csvdialect.Dialect, ids []dag.ID) []keptEnds {
	out := make([]keptEnds, len(ids))
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
		switch {
		case len(v) == 2 && v[0]&0x7e == 0 && v[0]&0x80 != 0:
			out[order[k]] = keptEnds{t: csvdialect.DecodeTransitions(v[1], v[0]&1 != 0), known: true}
		case len(v) == 1 && v[0] == 1:
			out[order[k]] = keptEnds{fromStart: true}
		}
	})
	return out
}

// put keeps the transitions of chunks read in dialect d (a cache: a
// failed write costs a read later).
func (e rowEnds) put(ctx context.Context, d csvdialect.Dialect, ids []dag.ID, ts []csvdialect.Transitions) {
	if !e.ok || len(ids) == 0 {
		return
	}
	_ = e.d.Update(ctx, func(b *store.DerivedBatch) error {
		for i, id := range ids {
			ends, nl := ts[i].Encode()
			v := []byte{0x80, ends}
			if nl {
				v[0] |= 1
			}
			if err := b.Set(rowEndsKey(d, id), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// cutsInsideRows returns the cuts of the source that fall inside a row of
// dialect d (i for the cut after chunk i). Chunks whose transitions the
// index does not keep, or keeps only in part where that part does not
// say, are read on all cores, each once, and theirs kept.
func (s *chunkSource) cutsInsideRows(ctx context.Context, ends rowEnds, d csvdialect.Dialect) ([]int, error) {
	n := max(len(s.chunks)-1, 0) // the last chunk's end is the file's
	ids := make([]dag.ID, n)
	for i := range ids {
		ids[i] = s.chunks[i].ID
	}
	kept := ends.get(ctx, d, ids)
	for {
		// Compose from the file's start; a chunk that does not say, at
		// the state it is read from, is read (with those after it that
		// could not say either) and the composing starts again.
		var inside, todo []int
		st := csvdialect.FieldStart
		stuck := false
		for i := range n {
			e, end, ok := kept[i].next(st)
			if !ok {
				stuck = true
			}
			if stuck {
				if !kept[i].known {
					todo = append(todo, i)
				}
				continue
			}
			if st = e; !end {
				inside = append(inside, i)
			}
		}
		if !stuck {
			return inside, nil
		}
		ts, err := s.readTransitions(ctx, d, todo)
		if err != nil {
			return nil, err
		}
		for k, i := range todo {
			kept[i] = keptEnds{t: ts[k], known: true}
		}
		putIDs := make([]dag.ID, len(todo))
		for k, i := range todo {
			putIDs[k] = ids[i]
		}
		ends.put(context.WithoutCancel(ctx), d, putIDs, ts)
	}
}

// readTransitions reads chunks idx on all cores and returns what each
// does to the reading state of dialect d.
func (s *chunkSource) readTransitions(ctx context.Context, d csvdialect.Dialect, idx []int) ([]csvdialect.Transitions, error) {
	s.Prefetch(ctx, idx)
	out := make([]csvdialect.Transitions, len(idx))
	errs := make([]error, len(idx))
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(idx)) {
		wg.Go(func() {
			var buf []byte
			for rctx.Err() == nil {
				k := int(next.Add(1) - 1)
				if k >= len(idx) {
					return
				}
				var err error
				if buf, err = s.AppendChunk(rctx, idx[k], buf[:0]); err != nil {
					errs[k] = err
					stop()
					return
				}
				s.verifiedBytes.Add(int64(len(buf)))
				s.verifiedChunks.Add(1)
				out[k] = d.Transitions(buf)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The failure that stopped the others, not their being stopped.
	var first error
	for _, err := range errs {
		if err != nil && (first == nil || errors.Is(first, context.Canceled) && !errors.Is(err, context.Canceled)) {
			first = err
		}
	}
	return out, first
}

// keepIngested keeps what a commit's reading of a new table as it was
// ingested (check.Ingested) learned of its chunks' transitions in its
// dialect, so that they need not be read again to learn them.
func (r *Repo) keepIngested(ctx context.Context, in *check.Ingested, spec table.Spec, src *chunkSource) {
	d := spec.CSVDialect()
	if spec.Format != table.CSV || d == csvdialect.Default {
		return // cut at its row ends: nothing to learn
	}
	all, known := in.Transitions(d, len(src.chunks))
	var ids []dag.ID
	var ts []csvdialect.Transitions
	for i := range known {
		if known[i] {
			ids, ts = append(ids, src.chunks[i].ID), append(ts, all[i])
		}
	}
	r.rowEnds().put(ctx, d, ids, ts)
}

// CutAtRowEnds reports whether the stored file id, a table of spec at
// path name, is cut only at row ends, but after chunks of the line modes'
// greatest size and the cuts inside lists (i for the cut after chunk i),
// as a row diff, a merge or a check decides it: a reader may then parse
// alone a run of its chunks that starts and ends at row ends.
func (r *Repo) CutAtRowEnds(ctx context.Context, spec table.Spec, id dag.ID, name string) (aligned bool, inside []int, err error) {
	src, err := storeSource(ctx, r.Store, id, name)
	if err != nil {
		return false, nil, err
	}
	defer src.close()
	ok, err := src.rowAligned(ctx, spec, r.rowEnds())
	return ok, src.inside, err
}
