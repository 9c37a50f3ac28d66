package profile

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/check"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
)

// Cache keeps encoded profiles: a span's under its chunk ids, a file's
// under its id. It is a cache: a lost entry is computed again. It is
// called from several goroutines at once.
type Cache interface {
	// Get calls fn with the value of each key that is set (value valid
	// only during fn).
	Get(ctx context.Context, keys []string, fn func(i int, value []byte))
	Put(ctx context.Context, keys []string, values [][]byte)
}

// Table is a stored version of a table file to profile.
type Table struct {
	check.Version // Path, Source and Cut
	Spec          table.Spec
	// ID is the stored File's id: the whole file's profile is cached
	// under it (zero: not cached).
	ID dag.ID
}

// Stats say what computing a profile read.
type Stats struct {
	Spans    int   `json:"chunks"`          // spans of chunks (mostly one chunk each) profiled apart
	Computed int   `json:"chunks_computed"` // of which read and parsed
	Reused   int   `json:"chunks_reused"`   // of which taken from the cache
	Bytes    int64 `json:"bytes_read"`      // bytes read and parsed
}

// Compute returns a table version's profile, reading only the spans of
// chunks whose profile the cache lacks, on all cores, and keeping theirs
// (and the file's) in it.
func Compute(ctx context.Context, t Table, cache Cache) (*Profile, Stats, error) {
	chunks := t.Source.Chunks()
	if len(chunks) == 0 {
		return &Profile{}, Stats{}, nil
	}
	ss := check.Spans(chunks, t.Cut)
	st := Stats{Spans: len(ss)}
	spec := t.Spec.String()
	fileKey := ""
	if t.ID != (dag.ID{}) {
		fileKey = "f" + string(rune(encodingVersion)) + spec + "\x00" + string(t.ID[:])
		var p *Profile
		cache.Get(ctx, []string{fileKey}, func(_ int, v []byte) { p, _ = Decode(v) })
		if p != nil {
			st.Reused = len(ss)
			return p, st, nil
		}
	}
	rd := table.New(t.Spec)
	h, hdrLen, err := check.Header(ctx, rd, t.Source)
	if err != nil {
		return nil, st, fmt.Errorf("%s: %w", t.Path, err)
	}
	hh := fnv.New64a()
	for _, c := range h.Cols {
		hh.Write([]byte(c))
		hh.Write([]byte{0})
	}
	prefix := "s" + string(rune(encodingVersion)) + spec + "\x00" + string(hh.Sum(nil))
	keys := make([]string, len(ss))
	for i, s := range ss {
		k := make([]byte, 0, len(prefix)+1+32*(s.To-s.From))
		k = append(append(k, prefix...), spanFlags(s, len(chunks)))
		for _, c := range chunks[s.From:s.To] {
			k = append(k, c.ID[:]...)
		}
		keys[i] = string(k)
	}
	whole, err := profileSpans(ctx, t, rd, h, hdrLen, ss, keys, cache, &st)
	if err != nil {
		return nil, st, err
	}
	whole.Header = h.Cols
	whole.finish()
	if fileKey != "" {
		if b, err := whole.Encode(nil); err == nil {
			cache.Put(ctx, []string{fileKey}, [][]byte{b})
		}
	}
	return whole, st, nil
}

// computeBatch is how many spans the cache lacks a worker reads, parses
// and profiles before it writes their profiles to the cache.
const computeBatch = 64

// readersPerCore is how many goroutines a core has reading and merging
// cached profiles: a cache read from disk waits, another merges.
const readersPerCore = 4

// profileSpans merges the profiles of spans ss (keys theirs) on all
// cores: first those the cache holds, read in key order (so that
// neighbouring keys are read without a seek), a share of the keys per
// reader; then the others, read, parsed and cached a batch at a time by
// each core. Each reader merges into a part of its own, and each core
// into a reader's part after; the parts are merged at the end, and the
// columns' means and M2s added in span order (their rounding depends on
// the order; nothing else of a profile does, but estimated top values).
func profileSpans(ctx context.Context, t Table, rd *table.Reader, h merge.Header, hdrLen int, ss []check.Span, keys []string, cache Cache, st *Stats) (*Profile, error) {
	workers := min(runtime.GOMAXPROCS(0), len(ss))
	readers := min(readersPerCore*workers, len(ss))
	ms := make([][]moments, len(ss))
	found := make([]bool, len(ss))
	parts := make([]*Profile, readers)
	order := make([]int, len(ss))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	var wg sync.WaitGroup
	for w := range readers {
		share := order[w*len(ss)/readers : (w+1)*len(ss)/readers]
		wg.Go(func() { parts[w] = mergeCached(ctx, cache, share, keys, ms, found) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var todo []int
	for i, ok := range found {
		if !ok {
			todo = append(todo, i)
		}
	}
	st.Computed, st.Reused = len(todo), len(ss)-len(todo)
	nb := (len(todo) + computeBatch - 1) / computeBatch
	errs := make([]error, nb)
	var mu sync.Mutex
	next := 0
	for w := range workers {
		wg.Go(func() {
			cw := worker{t: t, rd: rd, h: h, hdrLen: hdrLen, sp: newSpanProfiler(h), cache: cache}
			for {
				mu.Lock()
				b := next
				next++
				mu.Unlock()
				if b >= nb || ctx.Err() != nil {
					return
				}
				batch := todo[b*computeBatch : min((b+1)*computeBatch, len(todo))]
				var n int64
				n, errs[b] = cw.computeBatch(ctx, parts[w], batch, ss, keys, ms)
				mu.Lock()
				st.Bytes += n
				mu.Unlock()
				if errs[b] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, err // the first in the file
		}
	}
	return mergeParts(parts, ms), nil
}

// mergeCached merges the cached profiles of spans share (keys theirs)
// into a part, marking them found, their moments in ms. A corrupt entry
// may leave the part half merged: the share is merged anew without it
// (left to compute).
func mergeCached(ctx context.Context, cache Cache, share []int, keys []string, ms [][]moments, found []bool) *Profile {
	ks := make([]string, len(share))
	for j, i := range share {
		ks[j] = keys[i]
	}
	skip := map[int]bool{}
	for {
		part := &Profile{}
		bad := -1
		cache.Get(ctx, ks, func(j int, v []byte) {
			i := share[j]
			if skip[i] || bad >= 0 {
				return
			}
			if part.mergeEncoded(v, &ms[i]) != nil {
				bad = i
				return
			}
			found[i] = true
		})
		if bad < 0 {
			return part
		}
		skip[bad] = true
		for _, i := range share {
			found[i], ms[i] = false, nil
		}
	}
}

// mergeParts merges the workers' parts into the first, then sets each
// column's mean and M2 from the spans' (ms), added in span order.
func mergeParts(parts []*Profile, ms [][]moments) *Profile {
	whole := parts[0]
	to := map[*Column]*Column{}
	for _, c := range whole.Columns {
		to[c] = c
	}
	for _, p := range parts[1:] {
		whole.Rows += p.Rows
		for _, oc := range p.Columns {
			c := whole.Column(oc.Name)
			if c == nil {
				whole.Columns = append(whole.Columns, oc)
				c = oc
			} else if oc.Values > 0 {
				c.mergeValues(oc)
			}
			to[oc] = c
		}
	}
	for _, c := range whole.Columns {
		c.Mean, c.M2, c.momentN = 0, 0, 0
	}
	for _, m := range ms {
		for _, x := range m {
			to[x.c].addMoments(x.n, x.mean, x.m2)
		}
	}
	return whole
}

// worker computes spans, reusing its buffers.
type worker struct {
	t      Table
	rd     *table.Reader
	h      merge.Header
	hdrLen int
	sp     *spanProfiler
	cache  Cache
	buf    []byte
}

// computeBatch reads, parses and profiles spans batch (indices into ss
// and keys), merges their profiles into part (moments into ms) and
// caches them; it returns the bytes read.
func (w *worker) computeBatch(ctx context.Context, part *Profile, batch []int, ss []check.Span, keys []string, ms [][]moments) (int64, error) {
	nChunks := len(w.t.Source.Chunks())
	if pf, ok := w.t.Source.(merge.Prefetcher); ok {
		var idx []int
		for _, i := range batch {
			for c := ss[i].From; c < ss[i].To; c++ {
				idx = append(idx, c)
			}
		}
		pf.Prefetch(ctx, idx)
	}
	var st Stats
	putVals := make([][]byte, len(batch))
	putKeys := make([]string, len(batch))
	for j, i := range batch {
		if err := w.computeSpan(ctx, ss[i], nChunks, &putVals[j], &st); err != nil {
			return st.Bytes, err
		}
		putKeys[j] = keys[i]
		if err := part.mergeEncoded(putVals[j], &ms[i]); err != nil {
			return st.Bytes, fmt.Errorf("%s: chunk %d: %w", w.t.Path, ss[i].From, err)
		}
	}
	w.cache.Put(ctx, putKeys, putVals)
	return st.Bytes, nil
}

// computeSpan reads, parses and profiles span s into *enc.
func (w *worker) computeSpan(ctx context.Context, s check.Span, nChunks int, enc *[]byte, st *Stats) error {
	var data []byte
	var err error
	w.buf, data, err = check.ReadSpan(ctx, w.t.Version, s, w.hdrLen, w.buf[:0])
	if err != nil {
		return fmt.Errorf("%s: %w", w.t.Path, err)
	}
	st.Bytes += int64(len(w.buf))
	p, err := profileSpan(w.rd, w.sp, w.h, data, s.To == nChunks)
	if err != nil {
		return parseError(w.t.Path, s, err)
	}
	*enc, err = p.Encode(nil)
	return err
}

// spanFlags marks the first span (its bytes start with the header) and
// the last (its rows may end without a line end).
func spanFlags(s check.Span, chunks int) byte {
	var f byte = 'm'
	if s.From == 0 {
		f |= 1
	}
	if s.To == chunks {
		f |= 2
	}
	return f
}

// parseError names the table and the span's first chunk for a row that
// does not parse (stored unchecked: dx commit --no-verify).
func parseError(path string, s check.Span, err error) error {
	var le *merge.LineError
	if errors.As(err, &le) {
		return &check.Violation{Path: path, Msg: fmt.Sprintf("line %d of chunk %d: %v", le.Line, s.From, le.Err)}
	}
	return &check.Violation{Path: path, Msg: err.Error()}
}
