package check

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/dxdata/dx/internal/contract"
	"github.com/dxdata/dx/internal/table/parquet"
	"github.com/dxdata/dx/merge"
)

// A Parquet table is checked against its data contract through the rows
// internal/table/parquet reads: values are JSON, as in its row diffs, and
// a row's line is its 1-based number in the file. Its schema is its
// header. The footer gives the row count. The key's uniqueness is the
// row diff's to find; a full check hashes every key.

// ParquetFull checks a whole Parquet version: its schema and every row
// against v.Rules, no key (key: its columns) or unique column value
// twice, and the row count.
func ParquetFull(ctx context.Context, key []string, v Version) error {
	var broken ruleCount // the first by line, the row count's (line 0) last
	rows, err := parquetEach(ctx, key, v, func(line int, p contract.Problem) error {
		if broken.n == 0 || line != 0 && (broken.line == 0 || line < broken.line) {
			broken.line, broken.first = line, p
		}
		broken.n++
		return nil
	})
	if err != nil {
		return err
	}
	if broken.n == 0 && v.Count != nil {
		*v.Count = rows
	}
	return broken.violation(v.Path)
}

// ParquetEach reads a whole Parquet version and calls fn with every rule
// of v.Rules it breaks, in row order (line 1: the schema, before the
// rows; line 0: the row count, last). A repeated key ends it with a
// Violation.
func ParquetEach(ctx context.Context, key []string, v Version, fn func(line int, p contract.Problem) error) error {
	if v.Rules == nil {
		return nil
	}
	_, err := parquetEach(ctx, key, v, fn)
	return err
}

// parquetEach is ParquetEach, for any rules; it returns the row count.
func parquetEach(ctx context.Context, key []string, v Version, fn func(line int, p contract.Problem) error) (int64, error) {
	first, err := parquet.OpenRowGroups(ctx, v.Source, key)
	if err != nil {
		return 0, parquetViolation(v.Path, err)
	}
	rows := first.Rows()
	if v.Rules != nil && len(v.Source.Chunks()) > 0 {
		for _, p := range v.Rules.Header(first.Cols()) {
			if err := fn(1, p); err != nil {
				return rows, err
			}
		}
	}
	cols := uniqueColumns(v)
	seed := maphash.MakeSeed()
	// Hashes first: only values whose hash repeats are read again and
	// compared. Row groups are read on all cores; what each finds is
	// handed on in file order.
	keys := make([]uint64, 0, rows)
	vals := make([][]uint64, len(cols))
	err = parquetGroups(ctx, first, key, v, func(g *groupResult, r *merge.Row) {
		if len(key) > 0 {
			g.keys = append(g.keys, maphash.String(seed, r.Key))
		}
		for i, c := range cols {
			if val, ok := parquetValue(r, c); ok {
				g.vals[i] = append(g.vals[i], maphash.String(seed, val))
			}
		}
		if v.Rules != nil {
			g.problems = v.Rules.Row(*r, g.problems[:0])
			for _, p := range g.problems {
				g.hits = append(g.hits, hit{line: r.Line, p: p, unique: -1})
			}
		}
	}, len(cols), func(g *groupResult) error {
		keys = append(keys, g.keys...)
		for i := range cols {
			vals[i] = append(vals[i], g.vals[i]...)
		}
		for _, h := range g.hits {
			if err := fn(h.line, h.p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return rows, parquetViolation(v.Path, err)
	}
	dupKeys, dupVals := repeated(keys), make([]map[uint64]bool, len(cols))
	again := len(dupKeys) > 0
	for i := range cols {
		dupVals[i] = repeated(vals[i])
		again = again || len(dupVals[i]) > 0
	}
	if again {
		if err := parquetRepeats(ctx, key, v, cols, seed, dupKeys, dupVals, fn); err != nil {
			return rows, err
		}
	}
	if v.Rules != nil {
		for _, p := range v.Rules.Rows(rows) {
			if err := fn(0, p); err != nil {
				return rows, err
			}
		}
	}
	return rows, nil
}

// groupResult is what reading one row group found.
type groupResult struct {
	keys     []uint64   // the rows' keys, hashed
	vals     [][]uint64 // per unique column, its values, hashed
	hits     []hit      // broken rules, in row order
	problems []contract.Problem
	err      error
}

// parquetGroups reads v's row groups on all cores, each through its own
// reader of the file, calling row with every row of a group (from one
// goroutine a group) and then done with each group's result, in file
// order, from the caller's goroutine. An error of done, or of a group,
// ends it.
func parquetGroups(ctx context.Context, first *parquet.Segments, key []string, v Version, row func(g *groupResult, r *merge.Row), uniqueCols int, done func(g *groupResult) error) error {
	n := first.Len()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]chan *groupResult, n)
	for i := range results {
		results[i] = make(chan *groupResult, 1)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	defer wg.Wait()
	for w := range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			segs := first
			if w > 0 {
				var err error
				if segs, err = parquet.OpenRowGroups(ctx, v.Source, key); err != nil {
					for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
						results[i] <- &groupResult{err: err}
					}
					return
				}
			}
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				g := &groupResult{vals: make([][]uint64, uniqueCols)}
				if ctx.Err() == nil {
					g.err = segs.Each(ctx, i, func(r *merge.Row) error {
						row(g, r)
						return nil
					})
				} else {
					g.err = ctx.Err()
				}
				results[i] <- g
			}
		})
	}
	for i := range n {
		g := <-results[i]
		if g.err != nil {
			return g.err
		}
		if err := done(g); err != nil {
			return err
		}
	}
	return nil
}

// parquetRepeats reads a version again for the keys and unique values
// whose hashes repeat: a key seen twice is a Violation; a unique value
// seen twice, a broken rule at its second row.
func parquetRepeats(ctx context.Context, key []string, v Version, cols []string, seed maphash.Seed, dupKeys map[uint64]bool, dupVals []map[uint64]bool, fn func(line int, p contract.Problem) error) error {
	seenKeys := map[string]int{}
	seen := make([]map[string]int, len(cols))
	for i := range seen {
		seen[i] = map[string]int{}
	}
	_, err := parquet.Scan(ctx, key, v.Source, func(r *merge.Row) error {
		if len(dupKeys) > 0 && dupKeys[maphash.String(seed, r.Key)] {
			if at, ok := seenKeys[r.Key]; ok {
				return &Violation{Path: v.Path, Line: r.Line, Msg: fmt.Sprintf("%v (first on row %d)", &merge.DuplicateKeyError{Key: r.Key}, at)}
			}
			seenKeys[r.Key] = r.Line
		}
		for i, c := range cols {
			val, ok := parquetValue(r, c)
			if !ok || !dupVals[i][maphash.String(seed, val)] {
				continue
			}
			if at, ok := seen[i][val]; ok {
				if err := fn(r.Line, contract.Problem{Column: c, Rule: fmt.Sprintf("unique (first on row %d)", at), Value: val}); err != nil {
					return err
				}
				continue
			}
			seen[i][val] = r.Line
		}
		return nil
	})
	if err != nil {
		return parquetViolation(v.Path, err)
	}
	return nil
}

// ParquetChanged checks a new Parquet version against an old one that
// was checked under the same rules: the rows the row diff finds added or
// changed keep the rules, and each value they bring to a unique column
// is in no other row of the new version. The diff fails on a key that
// repeats. If the old version does not read, or the schema changed, the
// new one is checked whole.
func ParquetChanged(ctx context.Context, key []string, old, new Version) error {
	rd, err := parquet.Diff(ctx, key, old.Source, new.Source)
	var se *merge.SideError
	var dup *merge.DuplicateKeyError
	var sc *parquet.SchemaChange
	switch {
	case err == nil:
	case errors.As(err, &se) && se.Side == 1 && errors.As(se.Err, &dup):
		return ParquetFull(ctx, key, new) // it says where
	case errors.As(err, &se) && se.Side == 1 && errors.Is(se.Err, merge.ErrInvalidRows):
		return &Violation{Path: new.Path, Msg: se.Err.Error()}
	case errors.As(err, &se) && se.Side == 0 || errors.As(err, &sc):
		return ParquetFull(ctx, key, new)
	default:
		return fmt.Errorf("%s: %w", new.Path, err)
	}
	if new.Rules == nil {
		if new.Count != nil {
			t, err := parquet.Footer(ctx, new.Source)
			if err != nil {
				return parquetViolation(new.Path, err)
			}
			*new.Count = t.Rows
		}
		return nil
	}
	var broken ruleCount
	broken.add(1, new.Rules.Header(rd.NewHeader.Cols))
	var hits []hit
	var problems []contract.Problem
	cols := uniqueColumns(new)
	want := make([]map[string]bool, len(cols)) // unique values the new rows bring
	for i := range want {
		want[i] = map[string]bool{}
	}
	for _, c := range rd.Changes {
		if c.New == nil {
			continue
		}
		problems = new.Rules.Row(*c.New, problems[:0])
		for _, p := range problems {
			hits = append(hits, hit{line: c.New.Line, p: p, unique: -1})
		}
		for i, col := range cols {
			if val, ok := parquetValue(c.New, col); ok {
				want[i][val] = true
			}
		}
	}
	if len(cols) > 0 && slices.ContainsFunc(want, func(m map[string]bool) bool { return len(m) > 0 }) {
		more, err := parquetUniqueIn(ctx, key, new, cols, want)
		if err != nil {
			return err
		}
		hits = append(hits, more...)
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return a.line - b.line })
	broken.merge(hits)
	t, err := parquet.Footer(ctx, new.Source)
	if err != nil {
		return parquetViolation(new.Path, err)
	}
	return counted(new, t.Rows, &broken)
}

// parquetUniqueIn reads version v for the values of want (per unique
// column) and returns a broken rule at every row past the first that
// holds one.
func parquetUniqueIn(ctx context.Context, key []string, v Version, cols []string, want []map[string]bool) ([]hit, error) {
	var hits []hit
	seen := make([]map[string]int, len(cols))
	for i := range seen {
		seen[i] = map[string]int{}
	}
	note := func(i, line int, val string) {
		if !want[i][val] {
			return
		}
		if at, ok := seen[i][val]; ok {
			hits = append(hits, hit{line: line, p: contract.Problem{Column: cols[i], Rule: fmt.Sprintf("unique (first on row %d)", at), Value: val}, unique: -1})
			return
		}
		seen[i][val] = line
	}
	// A leaf column is read alone, its pages and no other column's.
	flat := true
	for i, c := range cols {
		if len(want[i]) == 0 {
			continue
		}
		ok, err := parquet.ScanColumn(ctx, v.Source, c, func(row int, val string) error {
			note(i, row, val)
			return nil
		})
		if err != nil {
			return nil, parquetViolation(v.Path, err)
		}
		flat = flat && ok
	}
	if flat {
		return hits, nil
	}
	hits = hits[:0]
	for i := range seen {
		seen[i] = map[string]int{}
	}
	_, err := parquet.Scan(ctx, key, v.Source, func(r *merge.Row) error {
		for i, c := range cols {
			if val, ok := parquetValue(r, c); ok {
				note(i, r.Line, val)
			}
		}
		return nil
	})
	if err != nil {
		return nil, parquetViolation(v.Path, err)
	}
	return hits, nil
}

// parquetValue is a row's value of col, unless it is null.
func parquetValue(r *merge.Row, col string) (string, bool) {
	v, ok := r.Value(col)
	if !ok || v == "null" {
		return "", false
	}
	return v, true
}

// repeated are the hashes that occur more than once in hs (sorted in
// place).
func repeated(hs []uint64) map[uint64]bool {
	slices.Sort(hs)
	var out map[uint64]bool
	for i := 1; i < len(hs); i++ {
		if hs[i] == hs[i-1] {
			if out == nil {
				out = map[uint64]bool{}
			}
			out[hs[i]] = true
		}
	}
	return out
}

// parquetViolation makes a file that does not read as Parquet, or lacks
// its key, a Violation of path; other errors stay as they are.
func parquetViolation(path string, err error) error {
	var v *Violation
	if errors.As(err, &v) || !errors.Is(err, merge.ErrInvalidRows) {
		return err
	}
	return &Violation{Path: path, Msg: err.Error()}
}
