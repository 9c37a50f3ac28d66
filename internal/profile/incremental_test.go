package profile

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dxdata/dx/internal/check"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
	"github.com/zeebo/xxh3"
)

// countingSource counts the chunks read.
type countingSource struct {
	*memSource
	reads atomic.Int64
}

func (s *countingSource) AppendChunk(ctx context.Context, i int, dst []byte) ([]byte, error) {
	s.reads.Add(1)
	return s.memSource.AppendChunk(ctx, i, dst)
}

// countingCache counts the entries read and written, and the keys
// located.
type countingCache struct {
	*memCache
	mu                     sync.Mutex
	read, written, located int
	readBytes              int
	keysRead               []string
}

func (c *countingCache) Get(ctx context.Context, keys []string, fn func(int, []byte)) {
	c.memCache.Get(ctx, keys, func(i int, v []byte) {
		c.mu.Lock()
		c.read++
		c.readBytes += len(v)
		c.keysRead = append(c.keysRead, keys[i])
		c.mu.Unlock()
		fn(i, v)
	})
}

// tails are the keys of the cache's span tails (see EncodeSpan).
func (c *countingCache) tails() map[string]bool {
	out := map[string]bool{}
	for k := range c.m {
		if _, ok := c.m[strings.TrimSuffix(k, "t")]; ok && strings.HasSuffix(k, "t") {
			out[k] = true
		}
	}
	return out
}

// Locate says which keys are set, as a Locator (memCache is none).
func (c *countingCache) Locate(_ context.Context, keys []string) []bool {
	c.memCache.mu.Lock()
	defer c.memCache.mu.Unlock()
	set := make([]bool, len(keys))
	for i, k := range keys {
		_, set[i] = c.m[k]
	}
	c.mu.Lock()
	c.located += len(keys)
	c.mu.Unlock()
	return set
}

func (c *countingCache) Put(ctx context.Context, keys []string, values [][]byte) {
	c.mu.Lock()
	c.written += len(keys)
	c.mu.Unlock()
	c.memCache.Put(ctx, keys, values)
}

// computeCounting profiles data, cut in chunks of about mod rows, with
// cache; it returns the profile, its stats and the chunks read.
func computeCounting(t *testing.T, data []byte, mod uint32, cache Cache) (*Profile, Stats, int64) {
	t.Helper()
	src := &countingSource{memSource: newMemSourceCut(data, mod)}
	tb := Table{Version: check.Version{Path: "t", Source: src, Cut: merge.DiffOptions{Aligned: true}}, Spec: table.Spec{Format: table.CSV, Key: []string{"id"}}}
	p, st, err := Compute(context.Background(), tb, cache)
	if err != nil {
		t.Fatal(err)
	}
	return p, st, src.reads.Load()
}

// scatter edits rows at k places spread over the table (a change, a
// delete or an insert each) and appends a few.
func scatter(rng *rand.Rand, rows [][]string, k int, next *int) [][]string {
	rows = slices.Clone(rows)
	for range k {
		i := rng.IntN(len(rows))
		switch rng.IntN(3) {
		case 0:
			rows[i] = genRows(rng, 1, next)[0]
		case 1:
			rows = slices.Delete(rows, i, i+1)
		default:
			rows = slices.Insert(rows, i, genRows(rng, 1, next)...)
		}
	}
	return append(rows, genRows(rng, rng.IntN(20), next)...)
}

// TestIncrementalEqualsScratch: a version profiled from the cache of the
// version before it (only the changed chunks computed) has the profile of
// the same version profiled from scratch: the same exact figures, and the
// same sketches (HyperLogLog registers and DDSketch bins merge the same
// in any order), so the same distinct estimates and quantiles; means and
// standard deviations agree to rounding. Chunks of about 8 rows (every
// count exact), 100 (exact counts past summaryFrom, some spans past
// SpanValues) and 400 (estimates past SpanValues).
func TestIncrementalEqualsScratch(t *testing.T) {
	for _, mod := range []uint32{8, 100, 400} {
		for seed := range uint64(6) {
			rng := rand.New(rand.NewPCG(seed, 19))
			next := 0
			rows := genRows(rng, 2000+rng.IntN(6000), &next)
			// Half the seeds through a Locator.
			var cache Cache = newMemCache()
			if seed%2 == 1 {
				cache = &countingCache{memCache: newMemCache()}
			}
			computeCounting(t, writeCSV(rows), mod, cache)
			for edit := range 3 {
				rows = scatter(rng, rows, 1+rng.IntN(8), &next)
				data := writeCSV(rows)
				inc, st, _ := computeCounting(t, data, mod, cache)
				if st.Reused == 0 && st.Spans > 8 {
					t.Fatalf("mod %d seed %d edit %d: nothing reused of %d spans", mod, seed, edit, st.Spans)
				}
				scratch, _, _ := computeCounting(t, data, mod, newMemCache())
				a, b := Summarize(inc, noTypes), Summarize(scratch, noTypes)
				checkExact(t, data, a)
				sameSummary(t, a, b)
				if mod == 400 && !slices.ContainsFunc(a.Columns, func(c ColumnSummary) bool { return !c.DistinctExact }) {
					t.Fatalf("seed %d: chunks of ~400 rows, yet every distinct count exact", seed)
				}
			}
		}
	}
}

// sameSummary fails unless a and b agree: every figure equal, but means
// and standard deviations (to rounding) and estimated top values' counts
// (which depend on the order of merging).
func sameSummary(t *testing.T, a, b Summary) { t.Helper(); sameSummaryWithin(t, a, b, 0) }

// sameSummaryWithin is sameSummary, but a's estimated distinct counts may
// exceed b's by up to slack (values taken out of a's registers: see
// Profile.Apply).
func sameSummaryWithin(t *testing.T, a, b Summary, slack int64) {
	t.Helper()
	if a.Rows != b.Rows || len(a.Columns) != len(b.Columns) {
		t.Fatalf("rows %d, %d columns; from scratch %d, %d", a.Rows, len(a.Columns), b.Rows, len(b.Columns))
	}
	for i, x := range a.Columns {
		y := b.Columns[i]
		if x.Name != y.Name || x.Type != y.Type || x.Count != y.Count || x.Nulls != y.Nulls ||
			(x.Distinct+slack < y.Distinct || x.Distinct > y.Distinct+slack || x.DistinctExact && x.Distinct != y.Distinct) ||
			x.DistinctExact != y.DistinctExact || x.Min != y.Min || x.Max != y.Max ||
			x.TopExact != y.TopExact {
			t.Fatalf("column %d: %+v\nfrom scratch %+v", i, x, y)
		}
		if (x.Quantiles == nil) != (y.Quantiles == nil) || x.Quantiles != nil && *x.Quantiles != *y.Quantiles {
			t.Fatalf("%s: quantiles %+v, from scratch %+v", x.Name, x.Quantiles, y.Quantiles)
		}
		if (x.Length == nil) != (y.Length == nil) || x.Length != nil && *x.Length != *y.Length {
			t.Fatalf("%s: lengths %+v, from scratch %+v", x.Name, x.Length, y.Length)
		}
		for _, f := range [][2]*float64{{x.Mean, y.Mean}, {x.Stddev, y.Stddev}} {
			if (f[0] == nil) != (f[1] == nil) || f[0] != nil && *f[0] != *f[1] {
				t.Fatalf("%s: mean or stddev %v, from scratch %v", x.Name, f[0], f[1])
			}
		}
		if x.TopExact && !slices.Equal(x.Top, y.Top) {
			t.Fatalf("%s: top %v, from scratch %v", x.Name, x.Top, y.Top)
		}
	}
}

// TestScatteredEditWorkBounded: after a few rows edited across a large
// table, profiling the new version computes, reads and caches only the
// chunks around the edits (not the table's), and reads each unchanged
// chunk's cached profile once.
func TestScatteredEditWorkBounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	next := 0
	rows := genRows(rng, 40000, &next)
	cache := &countingCache{memCache: newMemCache()}
	_, st1, reads1 := computeCounting(t, writeCSV(rows), 8, cache)
	if st1.Computed != st1.Spans || reads1 < int64(st1.Spans) || cache.written != st1.Spans {
		t.Fatalf("first profile: %+v, %d chunks read, %d entries cached", st1, reads1, cache.written)
	}
	const edits = 10
	rows = scatter(rng, rows, edits, &next)
	cache.read, cache.written, cache.located = 0, 0, 0
	_, st, reads := computeCounting(t, writeCSV(rows), 8, cache)
	// An edit changes the chunk it falls in and may move the cut before
	// or after it; the rows appended change the last chunks.
	bound := 3*edits + 5
	if st.Computed > bound || reads > int64(2*bound) || cache.written > bound {
		t.Fatalf("%d edits in %d spans: %d computed, %d chunks read, %d entries cached; want at most %d, %d, %d",
			edits, st.Spans, st.Computed, reads, cache.written, bound, 2*bound, bound)
	}
	// Each reused span's profile is read, once (no file id: no file's
	// profile cached), each span's key located once.
	if st.Reused != st.Spans-st.Computed || cache.read != st.Reused || cache.located != st.Spans {
		t.Fatalf("%+v: %d cache entries read, %d keys located", st, cache.read, cache.located)
	}
}

// TestSelectFirst: selectFirst puts the k least first, as a sort would.
func TestSelectFirst(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for range 500 {
		n := rng.IntN(60)
		s := make([]ValueCount, n)
		for i := range s {
			s[i] = ValueCount{Value: strconv.Itoa(i), Count: rng.Int64N(5)}
		}
		k := rng.IntN(n + 1)
		want := slices.Clone(s)
		slices.SortFunc(want, compareCounts)
		selectFirst(s, k, compareCounts)
		got := slices.Clone(s[:k])
		slices.SortFunc(got, compareCounts)
		if !slices.Equal(got, want[:k]) {
			t.Fatalf("n %d k %d: %v, want %v", n, k, got, want[:k])
		}
	}
}

// TestOtherEncodingVersion: cached profiles of another encoding version
// (as a dx of another layout left them, under the same keys) are
// computed again, never misread.
func TestOtherEncodingVersion(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	next := 0
	data := writeCSV(genRows(rng, 3000, &next))
	cache := newMemCache()
	p, st, _ := computeCounting(t, data, 100, cache)
	for k, v := range cache.m {
		body := slices.Clone(v[:len(v)-8])
		body[0] = encodingVersion - 1
		cache.m[k] = binary.LittleEndian.AppendUint64(body, xxh3.Hash(body))
	}
	q, st2, _ := computeCounting(t, data, 100, cache)
	if st2.Computed != st.Spans {
		t.Fatalf("%d of %d spans computed with every cached profile of another version", st2.Computed, st.Spans)
	}
	sameSummary(t, Summarize(q, noTypes), Summarize(p, noTypes))
}

// TestTailsReadOnlyForExactColumns: a table's spans of 120 rows keep
// the counts of their columns of many values in tails, apart from the
// rest of their cached profiles. Profiled again from the cache, the
// table whose columns stay exact reads every tail (its counts are the
// figures); the same table with one span of 400 rows (past SpanValues:
// those columns become estimates) reads none of them, and fewer bytes.
// Tails lost are computed again. The figures are a fresh computation's
// every time.
func TestTailsReadOnlyForExactColumns(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 15))
	next := 0
	rows := genRows(rng, 6000, &next)
	cut := func(big bool) *countingSource {
		src := &memSource{}
		data := writeCSV(rows)
		nl := bytes.IndexByte(data, '\n') + 1
		src.add(data[:nl]) // the header
		lines := bytes.SplitAfter(data[nl:], []byte("\n"))
		for i := 0; i < len(lines); {
			n := 120
			if big && i == 2400 {
				n = 400
			}
			src.add(bytes.Join(lines[i:min(i+n, len(lines))], nil))
			i += n
		}
		return &countingSource{memSource: src}
	}
	profile := func(src *countingSource, cache Cache) (Summary, Stats) {
		t.Helper()
		tb := Table{Version: check.Version{Path: "t", Source: src, Cut: merge.DiffOptions{Aligned: true}}, Spec: table.Spec{Format: table.CSV, Key: []string{"id"}}}
		p, st, err := Compute(context.Background(), tb, cache)
		if err != nil {
			t.Fatal(err)
		}
		return Summarize(p, noTypes), st
	}
	data := writeCSV(rows)
	for _, big := range []bool{false, true} {
		cache := &countingCache{memCache: newMemCache()}
		first, _ := profile(cut(big), cache)
		tails := cache.tails()
		if len(tails) < 40 {
			t.Fatalf("big %v: %d tails cached", big, len(tails))
		}
		cache.read, cache.readBytes, cache.keysRead = 0, 0, nil
		again, st := profile(cut(big), cache)
		tailsRead := 0
		for _, k := range cache.keysRead {
			if tails[k] {
				tailsRead++
			}
		}
		exact := slices.ContainsFunc(again.Columns, func(c ColumnSummary) bool { return c.Name == "id" && c.TopExact })
		total := 0
		for _, v := range cache.m {
			total += len(v)
		}
		switch {
		case st.Computed != 0:
			t.Fatalf("big %v: %d spans computed with all cached", big, st.Computed)
		case !big && (!exact || tailsRead != len(tails)):
			t.Fatalf("exact columns: %d of %d tails read", tailsRead, len(tails))
		case big && (exact || tailsRead != 0 || 2*cache.readBytes > total):
			t.Fatalf("columns past their exact limits: %d tails read, %d of the cache's %d bytes", tailsRead, cache.readBytes, total)
		}
		checkExact(t, data, again)
		scratch, _ := profile(cut(big), newMemCache())
		sameSummary(t, again, scratch)
		sameSummary(t, first, scratch)
		// Tails lost, or holding none of their columns (well formed):
		// their spans are computed again, for the exact columns only.
		empty := binary.LittleEndian.AppendUint64([]byte{encodingVersion}, xxh3.Hash([]byte{encodingVersion}))
		for _, lose := range []func(k string){
			func(k string) { delete(cache.m, k) },
			func(k string) { cache.m[k] = empty },
		} {
			for k := range tails {
				lose(k)
			}
			lost, st := profile(cut(big), cache)
			if want := map[bool]int{false: len(tails), true: 0}[big]; st.Computed != want {
				t.Fatalf("big %v: %d spans computed with their tails lost, want %d", big, st.Computed, want)
			}
			sameSummary(t, lost, scratch)
		}
	}
}
