package profile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
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

// A Locator is a Cache that looks many keys up at once faster than in
// parts: Locate is called with every span's key before the Gets of parts
// of them, and says which are set (a key set may still read as a miss).
type Locator interface {
	Locate(ctx context.Context, keys []string) (set []bool)
}

// Table is a stored version of a table file to profile.
type Table struct {
	check.Version // Path, Source and Cut
	Spec          table.Spec
	// ID is the stored File's id: the whole file's profile is cached
	// under it (zero: not cached).
	ID dag.ID
	// Base, if set, is an earlier version of the table: if its profile is
	// cached and little changed, this one's is derived from it (see
	// derive.go).
	Base *Table
}

// Stats say what computing a profile read.
type Stats struct {
	Spans    int   `json:"chunks"`          // spans of chunks (mostly one chunk each) profiled apart
	Computed int   `json:"chunks_computed"` // of which read and parsed
	Reused   int   `json:"chunks_reused"`   // of which taken from the cache
	Bytes    int64 `json:"bytes_read"`      // bytes read and parsed
	// From is the id of the earlier version whose profile this one's was
	// derived from, taking RowsOut rows out and putting RowsIn in.
	From    string `json:"derived_from,omitempty"`
	RowsOut int64  `json:"rows_out,omitempty"`
	RowsIn  int64  `json:"rows_in,omitempty"`
}

// Compute returns a table version's profile, reading only the spans of
// chunks whose profile the cache lacks, on all cores, and keeping theirs
// (and the file's) in it.
func Compute(ctx context.Context, t Table, cache Cache) (*Profile, Stats, error) {
	chunks := t.Source.Chunks()
	if len(chunks) == 0 {
		return &Profile{}, Stats{}, nil
	}
	ss := check.Spans(t.Source, t.Cut)
	st := Stats{Spans: len(ss)}
	spec := t.Spec.String()
	fileKey := ""
	if t.ID != (dag.ID{}) {
		fileKey = fileKeyOf(spec, t.ID)
		var p *Profile
		cache.Get(ctx, []string{fileKey}, func(_ int, v []byte) { p, _ = Decode(v) })
		if p != nil {
			st.Reused = len(ss)
			p.finish()
			return p, st, nil
		}
		p, ok, err := derive(ctx, t, cache, &st)
		if err != nil {
			return nil, st, err
		}
		if ok {
			return stored(ctx, p, cache, fileKey), st, nil
		}
	}
	rd := table.New(t.Spec)
	h, hdrLen, err := check.Header(ctx, rd, t.Source)
	if err != nil {
		return nil, st, fmt.Errorf("%s: %w", t.Path, err)
	}
	prefix := spanKeyPrefix(spec, h.Cols)
	keys := make([]string, len(ss))
	for i, s := range ss {
		keys[i] = prefix + spanID(chunks, s)
	}
	whole, err := profileSpans(ctx, t, rd, h, hdrLen, ss, keys, cache, &st)
	if err != nil {
		return nil, st, err
	}
	whole.Header = h.Cols
	return stored(ctx, whole, cache, fileKey), st, nil
}

// stored caches p, a whole file's profile, under key (if set) as merged,
// so that a later version can be derived from it, and returns it
// finished.
func stored(ctx context.Context, p *Profile, cache Cache, key string) *Profile {
	if key != "" {
		if b, err := p.Encode(nil); err == nil {
			cache.Put(ctx, []string{key}, [][]byte{b})
		}
	}
	p.finish()
	return p
}

// computeBatch is how many spans the cache lacks a worker reads, parses
// and profiles before it writes their profiles to the cache.
const computeBatch = 64

// readersPerCore is how many goroutines a core has reading and merging
// cached profiles: a cache read from disk waits, another merges.
const readersPerCore = 4

// maxShare is how many neighbouring spans' cached profiles a reader
// reads and merges at a time, before it hands the spans the cache lacks
// to the workers.
const maxShare = 256

// profileSpans merges the profiles of spans ss (keys theirs) on all
// cores. Readers take shares of neighbouring spans in turn and merge the
// profiles the cache holds (the cache reads them in the order it keeps
// them), each into a part of its own; the spans the cache lacks go to
// the workers, a core each, which read, parse, profile and cache them a
// batch at a time into parts of their own, while the readers go on: all
// at once when the cache is a Locator, else as each share finds them.
// The parts are merged at the end (in any order: nothing of a profile
// depends on it, but estimated top values).
func profileSpans(ctx context.Context, t Table, rd *table.Reader, h merge.Header, hdrLen int, ss []check.Span, keys []string, cache Cache, st *Stats) (*Profile, error) {
	workers := min(runtime.GOMAXPROCS(0), len(ss))
	readers := min(readersPerCore*workers, len(ss))
	share := min(maxShare, max(1, len(ss)/(4*readers)))
	var (
		mu        sync.Mutex
		more      = sync.NewCond(&mu)
		nextShare int        // the first span of the next share to read
		reading   = readers  // readers not done
		todo      []int      // spans to compute, in file order within a share
		parts     []*Profile // the readers', then the workers'
		errs      []placed
	)
	found, queued := make([]bool, len(ss)), make([]bool, len(ss))
	if l, ok := cache.(Locator); ok {
		// The spans the cache lacks go to the workers at once.
		for i, set := range l.Locate(ctx, keys) {
			if !set {
				queued[i], todo = true, append(todo, i)
			}
		}
		if pf, ok := t.Source.(merge.Prefetcher); ok && len(todo) > 0 {
			// Their chunks are read from disk while the readers merge.
			go pf.Prefetch(ctx, aheadChunks(t.Source.Chunks(), ss, todo))
		}
	}
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			// The reader's part, and the spans of the shares it took.
			part, skip := &Profile{}, map[int]bool{}
			var mine []int
			defer func() {
				mu.Lock()
				parts = append(parts, part)
				mu.Unlock()
			}()
			for {
				mu.Lock()
				from := nextShare
				nextShare += share
				if from >= len(ss) || ctx.Err() != nil {
					reading--
					more.Broadcast()
					mu.Unlock()
					return
				}
				mu.Unlock()
				n := len(mine)
				for i := from; i < min(from+share, len(ss)); i++ {
					if !queued[i] { // (queued before the readers started)
						mine = append(mine, i)
					}
				}
				idx := mine[n:]
				for bad := mergeCachedInto(ctx, cache, part, idx, keys, found, skip); bad >= 0; {
					// A corrupt entry left the part half merged: the
					// reader's shares anew without it (left to compute),
					// but the spans handed to the workers.
					skip[bad], part = true, &Profile{}
					idx = slices.DeleteFunc(slices.Clone(mine), func(i int) bool { return queued[i] })
					for _, i := range idx {
						found[i] = false
					}
					bad = mergeCachedInto(ctx, cache, part, idx, keys, found, skip)
				}
				if t.Progress != nil {
					var n int64
					for _, i := range idx {
						if found[i] {
							n += spanBytes(t.Source.Chunks(), ss[i])
						}
					}
					t.Progress(n)
				}
				mu.Lock()
				for _, i := range idx {
					if !found[i] && !queued[i] {
						queued[i] = true
						todo = append(todo, i)
					}
				}
				more.Broadcast()
				mu.Unlock()
			}
		})
	}
	for range workers {
		wg.Go(func() {
			cw := worker{t: t, rd: rd, h: h, hdrLen: hdrLen, sp: newSpanProfiler(h), cache: cache}
			part := &Profile{}
			defer func() {
				mu.Lock()
				parts = append(parts, part)
				mu.Unlock()
			}()
			for {
				mu.Lock()
				for len(todo) == 0 && reading > 0 {
					more.Wait()
				}
				if len(todo) == 0 || ctx.Err() != nil {
					mu.Unlock()
					return
				}
				batch := slices.Clone(todo[:min(computeBatch, len(todo))])
				todo = todo[len(batch):]
				st.Computed += len(batch)
				mu.Unlock()
				n, err := cw.computeBatch(ctx, part, batch, ss, keys)
				mu.Lock()
				st.Bytes += n
				if err != nil {
					errs = append(errs, placed{at: batch[0], err: err})
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, slices.MinFunc(errs, comparePlaced).err // the first in the file
	}
	whole := mergeParts(parts)
	// The tails of the spans merged from the cache that the columns
	// ending up exact need; computed anew where the cache lacks them.
	cw := worker{t: t, rd: rd, h: h, hdrLen: hdrLen, sp: newSpanProfiler(h), cache: cache}
	byspan, err := readTails(ctx, cache, whole.tailsNeeded(), keys, func(i int) ([]byte, error) {
		head, tail, err := cw.computeSpan(ctx, ss[i], len(t.Source.Chunks()), st)
		if err == nil {
			st.Computed++
			if tail != nil {
				cache.Put(ctx, []string{keys[i], tailKey(keys[i])}, [][]byte{head, tail})
			}
		}
		return tail, err
	})
	if err == nil {
		err = whole.settleTails(byspan)
	}
	if err != nil {
		return nil, err
	}
	st.Reused = len(ss) - st.Computed
	return whole, nil
}

// prefetchAhead bounds the bytes of the chunks to compute that are
// prefetched as soon as the cache says which they are (the workers
// prefetch each batch's as they take it).
const prefetchAhead = 64 << 20

// aheadChunks are the chunks of spans todo, from the first, up to
// prefetchAhead bytes.
func aheadChunks(chunks []dag.ChunkRef, ss []check.Span, todo []int) []int {
	var idx []int
	var n int64
	for _, i := range todo {
		for c := ss[i].From; c < ss[i].To; c++ {
			if n += int64(chunks[c].Len); n > prefetchAhead {
				return idx
			}
			idx = append(idx, c)
		}
	}
	return idx
}

// spanBytes is the length of span s's chunks.
func spanBytes(chunks []dag.ChunkRef, s check.Span) int64 {
	var n int64
	for _, c := range chunks[s.From:s.To] {
		n += int64(c.Len)
	}
	return n
}

// placed is an error and the first span of the batch it stopped.
type placed struct {
	at  int
	err error
}

func comparePlaced(a, b placed) int { return cmp.Compare(a.at, b.at) }

// mergeCached merges the cached profiles of spans share (keys theirs)
// into a part, marking them found. A corrupt entry may leave the part
// half merged: the share is merged anew without it (left to compute).
func mergeCached(ctx context.Context, cache Cache, share []int, keys []string, found []bool) *Profile {
	skip := map[int]bool{}
	for {
		part := &Profile{}
		bad := mergeCachedInto(ctx, cache, part, share, keys, found, skip)
		if bad < 0 {
			return part
		}
		skip[bad] = true
		for _, i := range share {
			found[i] = false
		}
	}
}

// mergeCachedInto merges the cached profiles of spans share but those in
// skip into part, marking them found. It returns -1, or the first span
// whose entry did not decode: it stopped there, part half merged.
func mergeCachedInto(ctx context.Context, cache Cache, part *Profile, share []int, keys []string, found []bool, skip map[int]bool) int {
	ks := make([]string, len(share))
	for j, i := range share {
		ks[j] = keys[i]
	}
	bad := -1
	cache.Get(ctx, ks, func(j int, v []byte) {
		i := share[j]
		if skip[i] || bad >= 0 {
			return
		}
		if part.mergeSpan(v, nil, i) != nil {
			bad = i
			return
		}
		found[i] = true
	})
	return bad
}

// mergeParts merges the workers' parts into the first.
func mergeParts(parts []*Profile) *Profile {
	for _, p := range parts {
		for _, c := range p.Columns {
			c.flushSketch()
		}
	}
	whole := parts[0]
	for _, p := range parts[1:] {
		whole.Rows += p.Rows
		for _, oc := range p.Columns {
			c := whole.Column(oc.Name)
			if c == nil {
				whole.Columns = append(whole.Columns, oc)
				c = oc
			} else if oc.Values > 0 {
				c.mergeValues(oc)
				c.mergeTails(oc)
			}
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
// and keys), merges their profiles into part and caches them; it
// returns the bytes read.
func (w *worker) computeBatch(ctx context.Context, part *Profile, batch []int, ss []check.Span, keys []string) (int64, error) {
	nChunks := len(w.t.Source.Chunks())
	if pf, ok := w.t.Source.(merge.Prefetcher); ok {
		sel := make([]check.Span, len(batch))
		for j, i := range batch {
			sel[j] = ss[i]
		}
		pf.Prefetch(ctx, spanChunks(sel))
	}
	var st Stats
	var put cacheEntries
	for _, i := range batch {
		head, tail, err := w.computeSpan(ctx, ss[i], nChunks, &st)
		if err != nil {
			return st.Bytes, err
		}
		if err := put.merge(part, i, keys[i], head, tail); err != nil {
			return st.Bytes, fmt.Errorf("%s: chunk %d: %w", w.t.Path, ss[i].From, err)
		}
	}
	w.cache.Put(ctx, put.keys, put.vals)
	return st.Bytes, nil
}

// cacheEntries are spans' computed profiles to put in the cache.
type cacheEntries struct {
	keys []string
	vals [][]byte
}

// merge merges span at's just computed profile (head and tail, see
// EncodeSpan) into part, and adds it to the entries under key.
func (e *cacheEntries) merge(part *Profile, at int, key string, head, tail []byte) error {
	if err := part.mergeJustEncoded(head, tail, at); err != nil {
		return err
	}
	e.add(key, head, tail)
	return nil
}

// mergeJustEncoded merges span at's profile, just encoded as head and
// tail (see EncodeSpan), into p.
func (p *Profile) mergeJustEncoded(head, tail []byte, at int) error {
	m, _ := decodeTail(tail) // (just encoded)
	return p.mergeSpan(head, m, at)
}

// add adds a span's profile (head and tail) to the entries under key.
func (e *cacheEntries) add(key string, head, tail []byte) {
	e.keys, e.vals = append(e.keys, key), append(e.vals, head)
	if tail != nil {
		e.keys, e.vals = append(e.keys, tailKey(key)), append(e.vals, tail)
	}
}

// spanChunks are the indices of spans ss's chunks.
func spanChunks(ss []check.Span) []int {
	var idx []int
	for _, s := range ss {
		for c := s.From; c < s.To; c++ {
			idx = append(idx, c)
		}
	}
	return idx
}

// computeSpan reads, parses and profiles span s: its profile's head and
// tail (see EncodeSpan).
func (w *worker) computeSpan(ctx context.Context, s check.Span, nChunks int, st *Stats) (head, tail []byte, err error) {
	var data []byte
	w.buf, data, err = check.ReadSpan(ctx, w.t.Version, s, w.hdrLen, w.buf[:0])
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", w.t.Path, err)
	}
	st.Bytes += int64(len(w.buf))
	p, err := profileSpan(w.rd, w.sp, w.h, data, s.To == nChunks)
	if err != nil {
		return nil, nil, parseError(w.t.Path, s, err)
	}
	return p.EncodeSpan()
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
