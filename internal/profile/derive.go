package profile

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"sync"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/check"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
)

// A version's profile is derived from an earlier version's stored one
// when few of its spans changed: the rows of the spans only the earlier
// version has are taken out, those of the spans only the new one has put
// in (see Profile.Apply), each row both hold (byte for byte) left as it
// is. That costs what changed in rows, where computing the new spans'
// profiles costs whole chunks, and merging every span's profile the
// whole file's spans.

// maxDerived bounds the share of a version's bytes in spans the earlier
// version lacks for its profile to be derived: past it, its spans are
// profiled.
const maxDerived = 0.25

// maxChangedRows bounds the rows a derived profile takes out and puts in:
// they are profiled exactly, each value counted, which costs more than a
// span's profile once they are many (rows appended in bulk: those spans'
// own profiles would be cheaper).
const maxChangedRows = 20_000

// derive computes t's profile from t.Base's stored one; false (having
// stored nothing) where it cannot: no stored profile, a header that
// changed, too many bytes changed, or figures that Apply cannot update.
func derive(ctx context.Context, t Table, cache Cache, st *Stats) (*Profile, bool, error) {
	b := t.Base
	if b == nil || b.ID == (dag.ID{}) || b.Spec.String() != t.Spec.String() || t.Spec.Format == table.JSONL ||
		!t.Cut.Aligned || !b.Cut.Aligned ||
		len(merge.CutsInsideRows(t.Source)) > 0 || len(merge.CutsInsideRows(b.Source)) > 0 {
		return nil, false, nil
	}
	var base *Profile
	cache.Get(ctx, []string{fileKeyOf(t.Spec.String(), b.ID)}, func(_ int, v []byte) { base, _ = Decode(v) })
	if base == nil || base.Header == nil {
		return nil, false, nil
	}
	nc, oc := t.Source.Chunks(), b.Source.Chunks()
	ns, os := check.Spans(t.Source, t.Cut), check.Spans(b.Source, b.Cut)
	// Spans by their chunks: those of one version only.
	left := map[string]int{}
	for _, s := range os {
		left[spanID(oc, s)]++
	}
	// Each span of one version only is in the gap after as many shared
	// spans: a gap's rows are lined up with the same gap's of the other
	// version (see cancelRows).
	var added, removed []check.Span
	var addedGaps, removedGaps []int
	var addedBytes, size int64
	shared := 0
	for _, s := range ns {
		size += spanBytes(nc, s)
		if k := spanID(nc, s); left[k] > 0 {
			left[k]--
			shared++
		} else {
			added, addedGaps = append(added, s), append(addedGaps, shared)
			addedBytes += spanBytes(nc, s)
		}
	}
	shared = 0
	for _, s := range os {
		if k := spanID(oc, s); left[k] > 0 {
			left[k]--
			removed, removedGaps = append(removed, s), append(removedGaps, shared)
		} else {
			shared++
		}
	}
	if float64(addedBytes) > maxDerived*float64(size) {
		return nil, false, nil
	}
	rd := table.New(t.Spec)
	h, hdrLen, err := check.Header(ctx, rd, t.Source)
	if err != nil || !slices.Equal(h.Cols, base.Header) {
		return nil, false, nil
	}
	_, oldHdrLen, err := check.Header(ctx, rd, b.Source)
	if err != nil {
		return nil, false, nil
	}
	// The spans added past as many as were removed in their gap (rows
	// appended, the usual: past the file's old last span) are read first,
	// and profiled while the others are read: rows cancel within a gap,
	// so such a span is mostly whole. Those that turn out whole are taken
	// from there.
	early, rest := appended(addedGaps, removedGaps)
	_, earlyIn, n, err := readRows(ctx, rd, b.Version, nil, oldHdrLen, t.Version, pick(added, early), hdrLen)
	if err != nil {
		return nil, false, err
	}
	st.Bytes += n
	prefix := spanKeyPrefix(t.Spec.String(), h.Cols)
	var earlyEncs []spanEncoding
	var earlyErr error
	earlyDone := make(chan struct{})
	ectx, cancel := context.WithCancel(ctx)
	go func() {
		defer close(earlyDone)
		data := make([][]byte, len(earlyIn))
		for i := range earlyIn {
			data[i] = earlyIn[i].data
		}
		earlyEncs, earlyErr = encodeSpans(ectx, rd, h, prefix, nc, pick(added, early), data, cache)
	}()
	defer func() { cancel(); <-earlyDone }() // not left running
	out, restIn, n, err := readRows(ctx, rd, b.Version, removed, oldHdrLen, t.Version, pick(added, rest), hdrLen)
	if err != nil {
		return nil, false, err
	}
	st.Bytes += n
	in := make([]spanRows, len(added))
	for k, i := range early {
		in[i] = earlyIn[k]
	}
	for k, i := range rest {
		in[i] = restIn[k]
	}
	for i := range out {
		out[i].gap = removedGaps[i]
	}
	for i := range in {
		in[i].gap = addedGaps[i]
	}
	outRows, inRows, whole, ok := cancelRows(out, in)
	if !ok || bytes.Count(outRows, []byte{'\n'})+bytes.Count(inRows, []byte{'\n'}) > maxChangedRows {
		return nil, false, nil
	}
	rp, err := profileSpan(rd, newExactProfiler(h), h, outRows, true)
	if err != nil {
		return nil, false, nil
	}
	ap, err := profileSpan(rd, newExactProfiler(h), h, inRows, true)
	if err != nil {
		return nil, false, nil // the spans' profiles say where
	}
	// New spans of which no row cancelled (rows appended, say) are
	// profiled as spans, cached and merged as the spans' profiles are:
	// from their early encodings where they have one.
	<-earlyDone
	if earlyErr != nil {
		return nil, false, nil
	}
	encodedAt := make(map[int]spanEncoding, len(early)) // by added span
	for k, i := range early {
		encodedAt[i] = earlyEncs[k]
	}
	encs := make([]spanEncoding, len(whole))
	var todo []int // indices into whole
	for j, i := range whole {
		if e, ok := encodedAt[i]; ok {
			encs[j] = e
		} else {
			todo = append(todo, j)
		}
	}
	ws := make([]check.Span, len(todo))
	wd := make([][]byte, len(todo))
	for j, w := range todo {
		ws[j], wd[j] = added[whole[w]], in[whole[w]].data
	}
	late, err := encodeSpans(ctx, rd, h, prefix, nc, ws, wd, cache)
	if err != nil {
		return nil, false, nil
	}
	for j, w := range todo {
		encs[w] = late[j]
	}
	wp, err := mergeEncodings(encs)
	if err != nil {
		return nil, false, nil
	}
	ap.Merge(wp)
	if !base.Apply(rp, ap) {
		return nil, false, nil
	}
	st.Computed, st.Reused = len(added), len(ns)-len(added)
	st.RowsOut, st.RowsIn = rp.Rows, ap.Rows
	st.From = b.ID.String()
	return base, true, nil
}

// appended splits the indices of the added spans, whose gaps are
// addedGaps, into those past as many added spans in their gap as there
// are removed ones (removedGaps theirs: spans that may be the removed
// ones changed), and the rest, each in order.
func appended(addedGaps, removedGaps []int) (early, rest []int) {
	removed := map[int]int{}
	for _, g := range removedGaps {
		removed[g]++
	}
	seen := map[int]int{}
	for i, g := range addedGaps {
		if seen[g]++; seen[g] > removed[g] {
			early = append(early, i)
		} else {
			rest = append(rest, i)
		}
	}
	return early, rest
}

// pick returns ss[i] for each i of idx, in order.
func pick(ss []check.Span, idx []int) []check.Span {
	out := make([]check.Span, len(idx))
	for k, i := range idx {
		out[k] = ss[i]
	}
	return out
}

// spanID names span s of chunks by its chunks, and whether it is the
// first (the header's) or the last (which may end without a line end).
func spanID(chunks []dag.ChunkRef, s check.Span) string {
	k := make([]byte, 0, 1+32*(s.To-s.From))
	k = append(k, spanFlags(s, len(chunks)))
	for _, c := range chunks[s.From:s.To] {
		k = append(k, c.ID[:]...)
	}
	return string(k)
}

// readRows reads the spans out of version old and in of version new on
// all cores, each split into rows: it returns them, and the bytes read.
func readRows(ctx context.Context, rd *table.Reader, old check.Version, out []check.Span, oldHdr int, new check.Version, in []check.Span, newHdr int) (outRows, inRows []spanRows, n int64, err error) {
	outRows, inRows = make([]spanRows, len(out)), make([]spanRows, len(in))
	type job struct {
		v    check.Version
		s    check.Span
		hdr  int
		into *spanRows
	}
	jobs := make([]job, 0, len(out)+len(in))
	for i, s := range out {
		jobs = append(jobs, job{old, s, oldHdr, &outRows[i]})
	}
	for i, s := range in {
		jobs = append(jobs, job{new, s, newHdr, &inRows[i]})
	}
	// Every chunk read from disk at once (ahead of the reads, which wait
	// for each in turn).
	for _, side := range []struct {
		v  check.Version
		ss []check.Span
	}{{old, out}, {new, in}} {
		if pf, ok := side.v.Source.(merge.Prefetcher); ok && len(side.ss) > 0 {
			go pf.Prefetch(ctx, spanChunks(side.ss))
		}
	}
	var mu sync.Mutex
	onCores(len(jobs), func(_, j int) bool {
		jb := jobs[j]
		whole, data, rerr := check.ReadSpan(ctx, jb.v, jb.s, jb.hdr, nil)
		mu.Lock()
		defer mu.Unlock()
		n += int64(len(whole))
		if rerr != nil {
			err = cmp.Or(err, rerr)
			return false
		}
		*jb.into = splitRows(rd, data)
		return err == nil
	})
	return outRows, inRows, n, err
}

// spanEncoding is a span's profile as the cache keeps it (see
// EncodeSpan).
type spanEncoding struct{ head, tail []byte }

// encodeSpans profiles spans ss of chunks (data theirs, past the header)
// on all cores as Compute does, caching each span's profile under prefix
// and its chunks, and returns their encodings.
func encodeSpans(ctx context.Context, rd *table.Reader, h merge.Header, prefix string, chunks []dag.ChunkRef, ss []check.Span, data [][]byte, cache Cache) ([]spanEncoding, error) {
	nw := workers(len(ss))
	sps := make([]*spanProfiler, nw)
	puts := make([]cacheEntries, nw)
	for w := range nw {
		sps[w] = newSpanProfiler(h)
	}
	encs := make([]spanEncoding, len(ss))
	var mu sync.Mutex
	var first error
	onCores(len(ss), func(w, j int) bool {
		if ctx.Err() != nil {
			return false
		}
		p, err := profileSpan(rd, sps[w], h, data[j], ss[j].To == len(chunks))
		var head, tail []byte
		if err == nil {
			head, tail, err = p.EncodeSpan()
		}
		if err != nil {
			mu.Lock()
			first = cmp.Or(first, err)
			mu.Unlock()
			return false
		}
		encs[j] = spanEncoding{head, tail}
		puts[w].add(prefix+spanID(chunks, ss[j]), head, tail)
		return true
	})
	for _, e := range puts {
		cache.Put(ctx, e.keys, e.vals)
	}
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return encs, nil
}

// mergeEncodings merges spans' encoded profiles on all cores.
func mergeEncodings(encs []spanEncoding) (*Profile, error) {
	nw := workers(len(encs))
	parts := make([]*Profile, nw)
	for w := range nw {
		parts[w] = &Profile{}
	}
	var mu sync.Mutex
	var first error
	onCores(len(encs), func(w, j int) bool {
		if err := parts[w].mergeJustEncoded(encs[j].head, encs[j].tail, j); err != nil {
			mu.Lock()
			first = cmp.Or(first, err)
			mu.Unlock()
			return false
		}
		return true
	})
	if first != nil {
		return nil, first
	}
	return mergeParts(parts), nil
}
