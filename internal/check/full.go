package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
)

// Version is one version of a table file.
type Version struct {
	Path   string
	Source merge.Source
	// Cut says how the file was cut into chunks (merge.DiffOptions:
	// whether only at row ends, and the chunk size at which a cut may
	// fall inside a row).
	Cut merge.DiffOptions
}

// span is a run of chunks [from, to) that starts and ends at row
// boundaries.
type span struct{ from, to int }

// spans splits a version's chunks where a cut is a row boundary.
func spans(chunks []dag.ChunkRef, cut merge.DiffOptions) []span {
	if len(chunks) == 0 {
		return nil
	}
	if !cut.Aligned {
		return []span{{0, len(chunks)}}
	}
	var out []span
	start := 0
	for i, c := range chunks {
		if i < len(chunks)-1 && cut.MaxChunk > 0 && int(c.Len) >= cut.MaxChunk {
			continue // the cut after a full-size chunk may fall inside a row
		}
		out = append(out, span{start, i + 1})
		start = i + 1
	}
	return out
}

// spanResult is what checking one span found.
type spanResult struct {
	err      error // the first problem; a *merge.LineError counts lines from the span's data
	newlines int   // line ends in the span's bytes (the header's included)
	hdrLines int   // of which in the header (first span only)
	keys     keyOrder
	hashes   []uint64 // of the rows' keys, in order
}

// keyOrder tracks whether keys ascend (in dag.CompareKeys order), and
// the first and last.
type keyOrder struct {
	n                 int
	ascending         bool
	first, last       []byte
	firstInt, lastInt bool
}

func (k *keyOrder) add(key []byte) {
	isInt := dag.IntKey(key)
	switch {
	case k.n == 0:
		k.ascending = true
		k.first, k.firstInt = slices.Clone(key), isInt
	case k.ascending && dag.CompareClassedKeys(key, isInt, k.last, k.lastInt) <= 0:
		k.ascending = false
	}
	k.last, k.lastInt = append(k.last[:0], key...), isInt
	k.n++
}

// Full checks a whole version: its header, every row, and (keyed) that
// no key repeats. Spans are read and parsed on all cores.
func Full(ctx context.Context, t *table.Reader, v Version) error {
	chunks := v.Source.Chunks()
	if len(chunks) == 0 {
		return nil
	}
	h, hdrLen, err := header(ctx, t, v.Source)
	if err != nil {
		return violation(v.Path, 0, err)
	}
	ss := spans(chunks, v.Cut)
	p := pass{t: t, v: v, h: h, hdrLen: hdrLen, ss: ss, seed: maphash.MakeSeed()}
	// First without hashing keys: a table in key order (the usual) is
	// then known unique without holding a hash a row.
	res, err := p.run(ctx, false)
	if err != nil {
		return err
	}
	base := 0
	for i := range res {
		r := &res[i]
		if r.err != nil {
			return violation(v.Path, base+r.hdrLines, r.err)
		}
		base += r.newlines
	}
	if !t.Keyed() || ascending(res) {
		return nil
	}
	if res, err = p.run(ctx, true); err != nil {
		return err
	}
	return unique(ctx, t, v, h, hdrLen, ss, res, p.seed)
}

// pass reads and parses every span of a version on all cores.
type pass struct {
	t      *table.Reader
	v      Version
	h      merge.Header
	hdrLen int
	ss     []span
	seed   maphash.Seed
}

// run checks the spans (hashing their keys if hash), stopping after the
// first span with a problem.
func (p *pass) run(ctx context.Context, hash bool) ([]spanResult, error) {
	res := make([]spanResult, len(p.ss))
	nChunks := len(p.v.Source.Chunks())
	var next atomic.Int64
	var failed atomic.Int64 // lowest span index with a problem, +1
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(p.ss)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for {
				i := int(next.Add(1) - 1)
				if i >= len(p.ss) || ctx.Err() != nil {
					return
				}
				if f := failed.Load(); f != 0 && int(f-1) < i {
					return // a problem earlier: this span cannot be the first
				}
				buf, res[i] = checkSpan(ctx, p.t, p.v, p.h, p.hdrLen, p.ss[i], nChunks, hash, p.seed, buf[:0])
				if res[i].err != nil {
					for {
						f := failed.Load()
						if f != 0 && int(f-1) <= i || failed.CompareAndSwap(f, int64(i+1)) {
							break
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	return res, ctx.Err()
}

// header reads the header from the first chunks.
func header(ctx context.Context, t *table.Reader, src merge.Source) (merge.Header, int, error) {
	var first []byte
	for i := range src.Chunks() {
		var err error
		if first, err = src.AppendChunk(ctx, i, first); err != nil {
			return merge.Header{}, 0, err
		}
		h, n, err := t.Header(first, i == len(src.Chunks())-1)
		if !errors.Is(err, merge.ErrMisaligned) {
			return h, n, err
		}
	}
	return merge.Header{}, 0, errors.New("no header")
}

// violation turns a parse error into a Violation at an absolute line
// (base: the lines before the parsed bytes); other errors pass.
func violation(path string, base int, err error) error {
	var le *merge.LineError
	if errors.As(err, &le) {
		return &Violation{Path: path, Line: base + le.Line, Msg: le.Err.Error()}
	}
	if errors.Is(err, merge.ErrMisaligned) || errors.Is(err, merge.ErrInvalidRows) {
		return &Violation{Path: path, Msg: err.Error()}
	}
	return fmt.Errorf("%s: %w", path, err)
}

// checkSpan reads and parses one span.
func checkSpan(ctx context.Context, t *table.Reader, v Version, h merge.Header, hdrLen int, s span, nChunks int, hash bool, seed maphash.Seed, buf []byte) ([]byte, spanResult) {
	var r spanResult
	for i := s.from; i < s.to; i++ {
		var err error
		if buf, err = v.Source.AppendChunk(ctx, i, buf); err != nil {
			r.err = err
			return buf, r
		}
	}
	r.newlines = bytes.Count(buf, []byte{'\n'})
	data := buf
	if s.from == 0 {
		r.hdrLines = bytes.Count(buf[:hdrLen], []byte{'\n'})
		data = buf[hdrLen:]
	}
	keyed := t.Keyed()
	if keyed && hash {
		r.hashes = make([]uint64, 0, r.newlines+1) // at most a row a line
	}
	add := func(key []byte) {
		if keyed {
			r.keys.add(key)
			if hash {
				r.hashes = append(r.hashes, maphash.Bytes(seed, key))
			}
		}
	}
	if t.FastRows(h, data, add) {
		return buf, r
	}
	r.keys, r.hashes = keyOrder{}, r.hashes[:0]
	r.err = t.Parse(h, data, s.to == nChunks, func(row merge.Row) error {
		add([]byte(row.Key))
		return nil
	})
	return buf, r
}
