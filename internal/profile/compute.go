package profile

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"runtime"
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
	parts, err := computeRanges(ctx, t, rd, h, hdrLen, ss, keys, cache, &st)
	if err != nil {
		return nil, st, err
	}
	whole := &Profile{Header: h.Cols}
	for _, p := range parts {
		whole.Merge(p)
	}
	whole.finish()
	if fileKey != "" {
		if b, err := whole.Encode(nil); err == nil {
			cache.Put(ctx, []string{fileKey}, [][]byte{b})
		}
	}
	return whole, st, nil
}

// rangeSpans is how many consecutive spans one worker profiles and
// merges at a time.
const rangeSpans = 64

// computeRanges profiles the spans a range at a time on all cores, each
// range's spans from the cache or read and parsed, and merged in order:
// the ranges' profiles, in order.
func computeRanges(ctx context.Context, t Table, rd *table.Reader, h merge.Header, hdrLen int, ss []check.Span, keys []string, cache Cache, st *Stats) ([]*Profile, error) {
	n := (len(ss) + rangeSpans - 1) / rangeSpans
	parts := make([]*Profile, n)
	errs := make([]error, n)
	var mu sync.Mutex
	next := 0
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := worker{t: t, rd: rd, h: h, hdrLen: hdrLen, sp: newSpanProfiler(h), cache: cache}
			for {
				mu.Lock()
				r := next
				next++
				mu.Unlock()
				if r >= n || ctx.Err() != nil {
					return
				}
				from, to := r*rangeSpans, min((r+1)*rangeSpans, len(ss))
				var rs Stats
				parts[r], rs, errs[r] = w.profileRange(ctx, ss[from:to], keys[from:to], len(t.Source.Chunks()))
				mu.Lock()
				st.Computed, st.Reused, st.Bytes = st.Computed+rs.Computed, st.Reused+rs.Reused, st.Bytes+rs.Bytes
				mu.Unlock()
				if errs[r] != nil {
					return
				}
			}
		}()
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
	return parts, nil
}

// worker profiles ranges of spans, reusing its buffers.
type worker struct {
	t      Table
	rd     *table.Reader
	h      merge.Header
	hdrLen int
	sp     *spanProfiler
	cache  Cache
	buf    []byte
}

// profileRange merges the profiles of spans ss (keys theirs): cached,
// merged as the cache hands them over (unordered: only means and M2
// depend on the order, and they are added in span order after), or
// computed, cached and merged.
func (w *worker) profileRange(ctx context.Context, ss []check.Span, keys []string, nChunks int) (*Profile, Stats, error) {
	skip := map[int]bool{} // cache entries found corrupt
	for {
		part, st, bad, err := w.tryRange(ctx, ss, keys, nChunks, skip)
		if err != nil || bad < 0 {
			return part, st, err
		}
		skip[bad] = true // computed again, in a range merged anew
	}
}

// tryRange is one attempt of profileRange; it reports a corrupt cache
// entry (bad ≥ 0) without finishing.
func (w *worker) tryRange(ctx context.Context, ss []check.Span, keys []string, nChunks int, skip map[int]bool) (*Profile, Stats, int, error) {
	var st Stats
	part := &Profile{}
	ms := make([][]moments, len(ss))
	found := make([]bool, len(ss))
	bad := -1
	w.cache.Get(ctx, keys, func(i int, v []byte) {
		if skip[i] || bad >= 0 {
			return
		}
		found[i] = true
		if part.mergeEncoded(v, &ms[i]) != nil {
			bad = i
		}
	})
	if bad >= 0 {
		return nil, st, bad, nil
	}
	var todo []int
	for i, ok := range found {
		if !ok {
			todo = append(todo, i)
		}
	}
	if pf, ok := w.t.Source.(merge.Prefetcher); ok && len(todo) > 0 {
		var idx []int
		for _, i := range todo {
			for c := ss[i].From; c < ss[i].To; c++ {
				idx = append(idx, c)
			}
		}
		pf.Prefetch(ctx, idx)
	}
	putVals := make([][]byte, len(todo))
	putKeys := make([]string, len(todo))
	for j, i := range todo {
		if err := w.computeSpan(ctx, ss[i], nChunks, &putVals[j], &st); err != nil {
			return nil, st, -1, err
		}
		putKeys[j] = keys[i]
		if err := part.mergeEncoded(putVals[j], &ms[i]); err != nil {
			return nil, st, -1, fmt.Errorf("%s: chunk %d: %w", w.t.Path, ss[i].From, err)
		}
	}
	st.Computed, st.Reused = len(todo), len(ss)-len(todo)
	if len(todo) > 0 {
		w.cache.Put(ctx, putKeys, putVals)
	}
	for _, m := range ms {
		for _, x := range m {
			x.c.addMoments(x.n, x.mean, x.m2)
		}
	}
	return part, st, -1, nil
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
