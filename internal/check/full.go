package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/contract"
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
	// Rules, if set, are the table's further rules (its data contract):
	// every row checked must keep them too.
	Rules Rules
	// Rows is the version's row count, if known (an old version's, for
	// Changed).
	Rows *int64
	// Count, if set, is set to the version's row count when a check that
	// passes learns it.
	Count *int64
	// Ranges, if set, keep the ranges of the unique columns' values per
	// chunk (see ValueRanges).
	Ranges ValueRanges
	// Progress, if set, is called with the bytes of each span read (from
	// several goroutines): a progress bar's.
	Progress func(n int64)
}

// Rules are rules a table's rows must keep beyond parsing (a data
// contract's, see internal/contract). Header is called once per check,
// before Row, which may then be called from several goroutines.
type Rules interface {
	Header(cols []string) []contract.Problem
	Row(r merge.Row, dst []contract.Problem) []contract.Problem
	// CountsRows reports whether Rows needs the row count; Rows checks it.
	CountsRows() bool
	Rows(n int64) []contract.Problem
}

// span is a run of chunks [from, to) that starts and ends at row
// boundaries.
type span struct{ from, to int }

// spans splits a version's chunks where a cut is a row boundary.
func spans(src merge.Source, cut merge.DiffOptions) []span {
	chunks := src.Chunks()
	if len(chunks) == 0 {
		return nil
	}
	if !cut.Aligned {
		return []span{{0, len(chunks)}}
	}
	var out []span
	start := 0
	for i := range chunks {
		if i < len(chunks)-1 && !cut.RowEnd(src, chunks, i) {
			continue // a cut after a full-size chunk, or one the source says falls inside a row
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
	keyList  []string // the rows' keys, in order, if the pass keeps them
	broken   ruleCount
	rows     int64
	values   spanValues // of the unique columns
}

// ruleCount counts the rules rows break, and says where the first is.
type ruleCount struct {
	n     int
	line  int // of the first, counted from the parsed bytes (or absolute)
	first contract.Problem
}

// add counts ps, broken by a row at line.
func (c *ruleCount) add(line int, ps []contract.Problem) {
	if len(ps) == 0 {
		return
	}
	if c.n == 0 {
		c.line, c.first = line, ps[0]
	}
	c.n += len(ps)
}

// merge counts hits (absolute lines, in order) too, the first of all
// staying first.
func (c *ruleCount) merge(hits []hit) {
	if len(hits) == 0 {
		return
	}
	if c.n == 0 || hits[0].line < c.line {
		c.line, c.first = hits[0].line, hits[0].p
	}
	c.n += len(hits)
}

// violation is the first broken rule, with the count of the others.
func (c *ruleCount) violation(path string) error {
	if c.n == 0 {
		return nil
	}
	return &Violation{Path: path, Line: c.line, Msg: c.first.String(), More: c.n - 1}
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
		return counted(v, 0, &ruleCount{})
	}
	h, hdrLen, err := header(ctx, t, v.Source)
	if err != nil {
		return violation(v.Path, 0, err)
	}
	var broken ruleCount
	if v.Rules != nil {
		broken.add(1, v.Rules.Header(h.Cols))
	}
	ss := spans(v.Source, v.Cut)
	p := pass{t: t, v: v, h: h, hdrLen: hdrLen, ss: ss, seed: maphash.MakeSeed()}
	// First without hashing keys: a table in key order (the usual) is
	// then known unique without holding a hash a row.
	res, err := p.run(ctx, false)
	if err != nil {
		return err
	}
	base := 0
	var rows int64
	for i := range res {
		r := &res[i]
		if r.err != nil {
			return violation(v.Path, base+r.hdrLines, r.err)
		}
		if b := r.broken; b.n > 0 {
			if broken.n == 0 {
				broken.line, broken.first = base+r.hdrLines+b.line, b.first
			}
			broken.n += b.n
		}
		base += r.newlines
		rows += r.rows
	}
	if cols := uniqueColumns(v); len(cols) > 0 {
		hits, err := fullUnique(ctx, t, v, h, hdrLen, ss, res, cols, p.seed)
		if err != nil {
			return err
		}
		values := make([]spanValues, len(res))
		for i := range res {
			values[i] = res[i].values
		}
		keepRanges(v, cols, values)
		broken.merge(hits)
	}
	if t.Keyed() && !ascending(res) {
		if res, err = p.run(ctx, true); err != nil {
			return err
		}
		if err := unique(ctx, t, v, h, hdrLen, ss, res, p.seed); err != nil {
			return err
		}
	}
	return counted(v, rows, &broken)
}

// counted checks a version's row count against its rules, records it, and
// returns the first broken rule found (a broken count comes after the
// rows' rules), with the count of the others.
func counted(v Version, rows int64, broken *ruleCount) error {
	if v.Rules != nil {
		if ps := v.Rules.Rows(rows); len(ps) > 0 {
			broken.add(0, ps)
		}
	}
	if broken.n == 0 && v.Count != nil {
		*v.Count = rows
	}
	return broken.violation(v.Path)
}

// pass reads and parses every span of a version on all cores.
type pass struct {
	t      *table.Reader
	v      Version
	h      merge.Header
	hdrLen int
	ss     []span
	seed   maphash.Seed
	keep   bool // keep each span's keys (spanResult.keyList)
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
				buf, res[i] = p.checkSpan(ctx, p.ss[i], nChunks, hash, buf[:0])
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

// readSpan appends the chunks of span s to buf and returns them whole,
// and the bytes past the header (in the first span) as data.
func readSpan(ctx context.Context, v Version, s span, hdrLen int, buf []byte) (whole, data []byte, err error) {
	start := len(buf)
	for c := s.from; c < s.to; c++ {
		if buf, err = v.Source.AppendChunk(ctx, c, buf); err != nil {
			return buf, nil, err
		}
	}
	if v.Progress != nil {
		v.Progress(int64(len(buf) - start))
	}
	if s.from == 0 {
		return buf, buf[hdrLen:], nil
	}
	return buf, buf, nil
}

// lines counts the line ends of a span read whole, and of its header.
func lines(whole, data []byte) (newlines, hdrLines int) {
	return bytes.Count(whole, []byte{'\n'}), bytes.Count(whole[:len(whole)-len(data)], []byte{'\n'})
}

// checkSpan reads and parses one span.
func (p *pass) checkSpan(ctx context.Context, s span, nChunks int, hash bool, buf []byte) ([]byte, spanResult) {
	t, v, h, hdrLen, seed := p.t, p.v, p.h, p.hdrLen, p.seed
	var r spanResult
	buf, data, err := readSpan(ctx, v, s, hdrLen, buf)
	if err != nil {
		r.err = err
		return buf, r
	}
	r.newlines, r.hdrLines = lines(buf, data)
	keyed := t.Keyed()
	if keyed && hash {
		r.hashes = make([]uint64, 0, r.newlines+1) // at most a row a line
	}
	// addKey counts a row, and its key (text, if set, is key as a string).
	addKey := func(key []byte, text string) {
		r.rows++
		if keyed {
			r.keys.add(key)
			if p.keep {
				if text == "" {
					text = string(key)
				}
				r.keyList = append(r.keyList, text)
			}
			if hash {
				r.hashes = append(r.hashes, maphash.Bytes(seed, key))
			}
		}
	}
	add := func(key []byte) { addKey(key, "") }
	if v.Rules == nil && t.FastRows(h, data, add) {
		return buf, r
	}
	// reset forgets the rows a fast path read before it gave up.
	reset := func() {
		r.keys, r.hashes, r.keyList, r.rows, r.broken = keyOrder{}, r.hashes[:0], r.keyList[:0], 0, ruleCount{}
	}
	reset()
	var problems []contract.Problem
	var vc *valueCollector
	if cols := uniqueColumns(v); len(cols) > 0 {
		vc = newValueCollector(t, v, cols, seed, s, int64(len(buf)-len(data)))
	} else if v.Rules != nil {
		// The rules on the rows' fields as they lie in data, where the fast
		// path reads them (the first problem's value copied).
		row := merge.Row{Cols: h.Cols, Vals: make([]string, len(h.Cols))}
		if t.FastRowFields(h, data, func(line int, key []byte, fields [][]byte) {
			add(key)
			for i, f := range fields {
				row.Vals[i] = unsafe.String(unsafe.SliceData(f), len(f))
			}
			row.Line = line
			problems = v.Rules.Row(row, problems[:0])
			if len(problems) > 0 && r.broken.n == 0 {
				problems[0].Value = strings.Clone(problems[0].Value)
			}
			r.broken.add(line, problems)
		}) {
			return buf, r
		}
		reset()
	}
	r.err = t.Parse(h, data, s.to == nChunks, func(row merge.Row) error {
		addKey(unsafe.Slice(unsafe.StringData(row.Key), len(row.Key)), row.Key) // (not written to)
		if v.Rules != nil {
			problems = v.Rules.Row(row, problems[:0])
			r.broken.add(row.Line, problems)
		}
		if vc != nil {
			vc.row(&row)
		}
		return nil
	})
	if vc != nil {
		r.values = vc.out
	}
	return buf, r
}
