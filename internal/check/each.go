package check

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/dxdata/dx/internal/contract"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
)

// Each reads a whole version and calls fn with every rule of v.Rules
// that it breaks, in line order (1: the header). Spans are read and
// checked on all cores, a few at a time. A row that does not parse ends
// it with that Violation.
func Each(ctx context.Context, t *table.Reader, v Version, fn func(line int, p contract.Problem) error) error {
	chunks := v.Source.Chunks()
	if v.Rules == nil {
		return nil
	}
	if len(chunks) == 0 {
		for _, p := range v.Rules.Rows(0) {
			if err := fn(0, p); err != nil {
				return err
			}
		}
		return nil
	}
	h, hdrLen, err := header(ctx, t, v.Source)
	if err != nil {
		return violation(v.Path, 0, err)
	}
	for _, p := range v.Rules.Header(h.Cols) {
		if err := fn(1, p); err != nil {
			return err
		}
	}
	ss := spans(v.Source, v.Cut)
	batch := 2 * runtime.GOMAXPROCS(0)
	base := 0
	var rows int64
	cols := uniqueColumns(v)
	seen := make([]map[string]int, len(cols)) // value → first line, per unique column
	for i := range seen {
		seen[i] = map[string]int{}
	}
	for from := 0; from < len(ss); from += batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		res := make([]eachResult, min(batch, len(ss)-from))
		var wg sync.WaitGroup
		for i := range res {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res[i] = eachSpan(ctx, t, v, h, hdrLen, ss[from+i], len(chunks))
			}()
		}
		wg.Wait()
		for _, r := range res {
			if r.err != nil {
				return violation(v.Path, base+r.hdrLines, r.err)
			}
			for _, hit := range r.hits {
				line := base + r.hdrLines + hit.line
				if hit.unique >= 0 {
					at, ok := seen[hit.unique][hit.p.Value]
					if !ok {
						seen[hit.unique][hit.p.Value] = line
						continue
					}
					hit.p.Rule = fmt.Sprintf("unique (first on line %d)", at)
				}
				if err := fn(line, hit.p); err != nil {
					return err
				}
			}
			base += r.newlines
			rows += r.rows
		}
	}
	for _, p := range v.Rules.Rows(rows) {
		if err := fn(0, p); err != nil {
			return err
		}
	}
	return nil
}

// eachResult is what checking one span found: its broken rules, at
// lines counted from the span's rows.
type eachResult struct {
	hits               []hit
	newlines, hdrLines int
	rows               int64
	err                error
}

type hit struct {
	line   int
	p      contract.Problem
	unique int // the unique column whose value p is, to be looked up; -1: a broken rule
}

func eachSpan(ctx context.Context, t *table.Reader, v Version, h merge.Header, hdrLen int, s span, nChunks int) eachResult {
	var r eachResult
	buf, data, err := readSpan(ctx, v, s, hdrLen, nil)
	if err != nil {
		r.err = fmt.Errorf("%s: %w", v.Path, err)
		return r
	}
	r.newlines, r.hdrLines = lines(buf, data)
	var problems []contract.Problem
	cols := uniqueColumns(v)
	r.err = t.Parse(h, data, s.to == nChunks, func(row merge.Row) error {
		r.rows++
		problems = v.Rules.Row(row, problems[:0])
		for _, p := range problems {
			r.hits = append(r.hits, hit{row.Line, p, -1})
		}
		for i, col := range cols {
			if val, ok := uniqueValue(t, &row, col); ok {
				r.hits = append(r.hits, hit{row.Line, contract.Problem{Column: col, Value: val}, i})
			}
		}
		return nil
	})
	return r
}
