package profile

import (
	"context"
	"fmt"
	"hash/fnv"
	"runtime"
	"sync"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/table/parquet"
	"github.com/dxdata/dx/merge"
)

// ComputeParquet is Compute for a Parquet table. Its units are the
// segments the Parquet row diff cuts (the rows between page starts, or
// whole row groups without an offset index), each profiled from its
// decoded rows (values as JSON, profiled as JSONL's are) and cached under
// the id of the chunks holding its bytes: a new version computes only the
// segments whose pages changed.
func ComputeParquet(ctx context.Context, t Table, cache Cache) (*Profile, Stats, error) {
	if len(t.Source.Chunks()) == 0 {
		return &Profile{}, Stats{}, nil
	}
	fileKey := ""
	if t.ID != (dag.ID{}) {
		fileKey = fileKeyOf(t.Spec.String(), t.ID)
		var p *Profile
		cache.Get(ctx, []string{fileKey}, func(_ int, v []byte) { p, _ = Decode(v) })
		if p != nil {
			p.finish()
			return p, Stats{}, nil
		}
	}
	segs, err := parquet.OpenSegments(ctx, t.Source)
	if err != nil {
		return nil, Stats{}, fmt.Errorf("%s: %w", t.Path, err)
	}
	n := segs.Len()
	st := Stats{Spans: n}
	hh := fnv.New64a()
	for _, c := range segs.Schema() {
		hh.Write([]byte(c))
		hh.Write([]byte{0})
	}
	prefix := "q" + string(rune(encodingVersion)) + string(hh.Sum(nil))
	keys := make([]string, n)
	all := make([]int, n)
	for i := range keys {
		id := segs.ID(i)
		keys[i], all[i] = prefix+string(id[:]), i
	}
	found := make([]bool, n)
	parts := []*Profile{mergeCached(ctx, cache, all, keys, found)}
	// Segments not found by their chunks are looked for by their bytes:
	// a changed chunk may hold unchanged pages.
	var missed []int
	for i, ok := range found {
		if !ok {
			missed = append(missed, i)
		}
	}
	byContent := make([]string, n)
	for _, i := range missed {
		if err := ctx.Err(); err != nil {
			return nil, st, err
		}
		id := segs.ContentID(i)
		byContent[i] = prefix + "b" + string(id[:])
	}
	if len(missed) > 0 {
		parts = append(parts, mergeCached(ctx, cache, missed, byContent, found))
	}
	var todo, relearn []int
	for _, i := range missed {
		if found[i] {
			relearn = append(relearn, i)
		} else {
			todo = append(todo, i)
		}
	}
	if err := relearnKeys(ctx, cache, relearn, keys, byContent); err != nil {
		return nil, st, err
	}
	st.Computed, st.Reused = len(todo), n-len(todo)
	if err := computeSegments(ctx, t, segs, todo, keys, byContent, cache, &parts, &st); err != nil {
		return nil, st, err
	}
	whole := mergeParts(parts)
	whole.Header = segs.Cols()
	// Every column of the schema, in its order: a file without rows has
	// no segment to bring them.
	cols := make([]*Column, 0, len(whole.Header))
	for _, name := range whole.Header {
		c := whole.Column(name)
		if c == nil {
			c = newAcc(name).column()
		}
		cols = append(cols, c)
	}
	whole.Columns = cols
	return stored(ctx, whole, cache, fileKey), st, nil
}

// computeSegments profiles segments todo on all cores, each worker
// through its own reader of the file, merging into a part of its own
// (appended to parts) and caching a batch at a time, under both keys.
func computeSegments(ctx context.Context, t Table, first *parquet.Segments, todo []int, keys, byContent []string, cache Cache, parts *[]*Profile, st *Stats) error {
	if len(todo) == 0 {
		return nil
	}
	workers := min(runtime.GOMAXPROCS(0), (len(todo)+computeBatch-1)/computeBatch)
	var mu sync.Mutex
	next := 0
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		part := &Profile{}
		*parts = append(*parts, part)
		wg.Go(func() {
			segs := first
			if w > 0 {
				var err error
				if segs, err = parquet.OpenSegments(ctx, t.Source); err != nil {
					errs[w] = fmt.Errorf("%s: %w", t.Path, err)
					return
				}
			}
			sp := &spanProfiler{byName: map[string]*acc{}}
			defer func() {
				mu.Lock()
				st.Bytes += segs.BytesDecoded()
				mu.Unlock()
			}()
			for {
				mu.Lock()
				b := next
				next += computeBatch
				mu.Unlock()
				if b >= len(todo) || ctx.Err() != nil {
					return
				}
				batch := todo[b:min(b+computeBatch, len(todo))]
				putKeys, putVals := make([]string, 0, 2*len(batch)), make([][]byte, 0, 2*len(batch))
				for _, i := range batch {
					sp.reset()
					err := segs.Each(ctx, i, func(r *merge.Row) error {
						sp.rows++
						for c, col := range r.Cols {
							sp.jsonValue(col, r.Vals[c])
						}
						return nil
					})
					if err != nil {
						errs[w] = fmt.Errorf("%s: %w", t.Path, err)
						return
					}
					enc, err := sp.profile().Encode(nil)
					if err == nil {
						err = part.mergeEncoded(enc)
					}
					if err != nil {
						errs[w] = fmt.Errorf("%s: segment %d: %w", t.Path, i, err)
						return
					}
					putKeys, putVals = append(putKeys, keys[i], byContent[i]), append(putVals, enc, enc)
				}
				cache.Put(ctx, putKeys, putVals)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// relearnKeys caches the profiles of segments found by their bytes under
// the chunks that hold them now too, so the next profile of this version
// finds them without reading.
func relearnKeys(ctx context.Context, cache Cache, idx []int, keys, byContent []string) error {
	if len(idx) == 0 {
		return nil
	}
	from := make([]string, len(idx))
	for j, i := range idx {
		from[j] = byContent[i]
	}
	vals := make([][]byte, len(idx))
	cache.Get(ctx, from, func(j int, v []byte) { vals[j] = append([]byte(nil), v...) })
	var putK []string
	var putV [][]byte
	for j, i := range idx {
		if vals[j] != nil {
			putK, putV = append(putK, keys[i]), append(putV, vals[j])
		}
	}
	cache.Put(ctx, putK, putV)
	return ctx.Err()
}
