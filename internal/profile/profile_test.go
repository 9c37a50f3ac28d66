package profile

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/check"
	"github.com/dxdata/dx/internal/contract"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
	"github.com/zeebo/xxh3"
)

// memSource is a file in memory, cut after rows whose hash says so (as
// content-defined chunking cuts: an edit changes the chunks around it).
type memSource struct {
	refs   []dag.ChunkRef
	chunks [][]byte
}

func newMemSource(data []byte) *memSource { return newMemSourceCut(data, 8) }

// newMemSourceCut cuts after 1 row in about mod.
func newMemSourceCut(data []byte, mod uint32) *memSource {
	s := &memSource{}
	start := 0
	for i := 0; i < len(data); i++ {
		if data[i] != '\n' {
			continue
		}
		h := fnv.New32a()
		h.Write(data[max(start, i-20) : i+1])
		if h.Sum32()%mod == 0 || i == len(data)-1 {
			s.add(data[start : i+1])
			start = i + 1
		}
	}
	if start < len(data) {
		s.add(data[start:])
	}
	return s
}

func (s *memSource) add(b []byte) {
	s.chunks = append(s.chunks, b)
	s.refs = append(s.refs, dag.ChunkRef{ID: dag.Hash(dag.KindChunk, b), Len: uint32(len(b))})
}

func (s *memSource) Chunks() []dag.ChunkRef { return s.refs }

func (s *memSource) AppendChunk(_ context.Context, i int, dst []byte) ([]byte, error) {
	return append(dst, s.chunks[i]...), nil
}

// memCache is a Cache in a map.
type memCache struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newMemCache() *memCache { return &memCache{m: map[string][]byte{}} }

func (c *memCache) Get(_ context.Context, keys []string, fn func(int, []byte)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, k := range keys {
		if v, ok := c.m[k]; ok {
			fn(i, v)
		}
	}
}

func (c *memCache) Put(_ context.Context, keys []string, values [][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, k := range keys {
		c.m[k] = values[i]
	}
}

func profileOf(t *testing.T, data []byte, spec table.Spec, cache Cache) (*Profile, Stats) {
	t.Helper()
	if cache == nil {
		cache = newMemCache()
	}
	tb := Table{Version: check.Version{Path: "t", Source: newMemSource(data), Cut: merge.DiffOptions{Aligned: true}}, Spec: spec}
	p, st, err := Compute(context.Background(), tb, cache)
	if err != nil {
		t.Fatal(err)
	}
	return p, st
}

func noTypes(string) contract.Type { return contract.TypeAny }

// hllStdErr is the documented standard error of the distinct count:
// 1.04/√(2^12).
const hllStdErr = 1.04 / 64

// genTable writes a random CSV table: an id, a small int with nulls, a
// category, a float, a name of many values, a timestamp.
func genRows(rng *rand.Rand, n int, next *int) [][]string {
	cats := []string{"red", "green", "blue", "", "cyan"}
	rows := make([][]string, n)
	for i := range rows {
		*next++
		small := strconv.Itoa(rng.IntN(10) - 3)
		if rng.IntN(7) == 0 {
			small = ""
		}
		rows[i] = []string{
			strconv.Itoa(*next),
			small,
			cats[rng.IntN(len(cats))],
			strconv.FormatFloat(rng.NormFloat64()*1000, 'f', 3, 64),
			fmt.Sprintf("n%d", rng.IntN(5000)),
			time.Unix(1600000000+rng.Int64N(1e8), 0).UTC().Format(time.RFC3339),
		}
	}
	return rows
}

var genHeader = []string{"id", "small", "cat", "f", "name", "ts"}

func writeCSV(rows [][]string) []byte {
	var b bytes.Buffer
	b.WriteString(strings.Join(genHeader, ",") + "\n")
	for _, r := range rows {
		b.WriteString(strings.Join(r, ",") + "\n")
	}
	return b.Bytes()
}

// oracle is a column's exact figures over a whole file.
type oracle struct {
	count, nulls int64
	counts       map[string]int64
	vals         []string
}

func oracleOf(t *testing.T, data []byte) (int64, map[string]*oracle) {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*oracle{}
	for _, h := range recs[0] {
		out[h] = &oracle{counts: map[string]int64{}}
	}
	for _, r := range recs[1:] {
		for i, v := range r {
			o := out[recs[0][i]]
			if v == "" {
				o.nulls++
				continue
			}
			o.count++
			o.counts[v]++
			o.vals = append(o.vals, v)
		}
	}
	return int64(len(recs) - 1), out
}

func checkExact(t *testing.T, data []byte, s Summary) {
	t.Helper()
	rows, want := oracleOf(t, data)
	if s.Rows != rows {
		t.Fatalf("rows %d, want %d", s.Rows, rows)
	}
	for _, c := range s.Columns {
		o := want[c.Name]
		if c.Count != o.count || c.Nulls != o.nulls {
			t.Fatalf("%s: count %d nulls %d, want %d %d", c.Name, c.Count, c.Nulls, o.count, o.nulls)
		}
		if o.count == 0 {
			continue
		}
		switch c.Type {
		case "int":
			ints := make([]int64, len(o.vals))
			sum := new(big.Int)
			for i, v := range o.vals {
				ints[i], _ = strconv.ParseInt(v, 10, 64)
				sum.Add(sum, big.NewInt(ints[i]))
			}
			mean, _ := new(big.Float).Quo(new(big.Float).SetInt(sum), big.NewFloat(float64(len(ints)))).Float64()
			if c.Min != strconv.FormatInt(slices.Min(ints), 10) || c.Max != strconv.FormatInt(slices.Max(ints), 10) || *c.Mean != mean {
				t.Fatalf("%s: min %s max %s mean %v, want %d %d %v", c.Name, c.Min, c.Max, *c.Mean, slices.Min(ints), slices.Max(ints), mean)
			}
		case "float":
			fs := make([]float64, len(o.vals))
			var sum float64
			for i, v := range o.vals {
				fs[i], _ = strconv.ParseFloat(v, 64)
				sum += fs[i]
			}
			mean := sum / float64(len(fs))
			var m2 float64
			for _, f := range fs {
				m2 += (f - mean) * (f - mean)
			}
			if c.Min != formatFloat(slices.Min(fs)) || c.Max != formatFloat(slices.Max(fs)) {
				t.Fatalf("%s: min %s max %s", c.Name, c.Min, c.Max)
			}
			if math.Abs(*c.Mean-mean) > 1e-9*(1+math.Abs(mean)) || math.Abs(*c.Stddev-math.Sqrt(m2/float64(len(fs)))) > 1e-9**c.Stddev {
				t.Fatalf("%s: mean %v stddev %v, want %v %v", c.Name, *c.Mean, *c.Stddev, mean, math.Sqrt(m2/float64(len(fs))))
			}
		case "string", "timestamp":
			if c.Type == "string" && (c.Min != slices.Min(o.vals) || c.Max != slices.Max(o.vals)) {
				t.Fatalf("%s: min %q max %q, want %q %q", c.Name, c.Min, c.Max, slices.Min(o.vals), slices.Max(o.vals))
			}
		}
		if c.DistinctExact && c.Distinct != int64(len(o.counts)) {
			t.Fatalf("%s: distinct %d, want %d", c.Name, c.Distinct, len(o.counts))
		}
		if !c.DistinctExact && math.Abs(float64(c.Distinct)-float64(len(o.counts))) > 3*hllStdErr*float64(len(o.counts)) {
			t.Fatalf("%s: distinct ≈ %d, want %d within 3 standard errors", c.Name, c.Distinct, len(o.counts))
		}
		if c.TopExact {
			cs := counts{}
			for v, n := range o.counts {
				cs.add([]byte(v), n)
			}
			wantTop := topCounts(cs, TopK)
			if !slices.Equal(c.Top, wantTop) {
				t.Fatalf("%s: top %v, want %v", c.Name, c.Top, wantTop)
			}
		}
	}
}

// TestExactFiguresUnderEdits: random tables and random edits; each
// version's profile, mostly from cached chunks, has the exact figures of
// a full recomputation, and computes only the chunks the edit changed.
func TestExactFiguresUnderEdits(t *testing.T) {
	spec := table.Spec{Format: table.CSV, Key: []string{"id"}}
	for seed := range uint64(12) {
		rng := rand.New(rand.NewPCG(seed, 7))
		next := 0
		rows := genRows(rng, rng.IntN(3000), &next)
		cache := newMemCache()
		for edit := range 4 {
			data := writeCSV(rows)
			p, st := profileOf(t, data, spec, cache)
			s := Summarize(p, noTypes)
			checkExact(t, data, s)
			if edit > 0 && st.Computed >= st.Spans && st.Spans > 4 {
				t.Fatalf("seed %d edit %d: computed all %d spans after a small edit", seed, edit, st.Spans)
			}
			for i := range s.Columns {
				want := []string{"int", "int", "string", "float", "string", "timestamp"}[i]
				if len(rows) > 50 && s.Columns[i].Type != want {
					t.Fatalf("%s: type %s, want %s", s.Columns[i].Name, s.Columns[i].Type, want)
				}
			}
			// Edit: change, delete and insert a few rows, append some.
			for range 1 + rng.IntN(5) {
				if len(rows) == 0 {
					break
				}
				i := rng.IntN(len(rows))
				switch rng.IntN(3) {
				case 0:
					rows[i] = genRows(rng, 1, &next)[0]
				case 1:
					rows = slices.Delete(rows, i, i+1)
				default:
					rows = slices.Insert(rows, i, genRows(rng, 1, &next)...)
				}
			}
			rows = append(rows, genRows(rng, rng.IntN(50), &next)...)
		}
	}
}

// TestQuantilesWithinBound: DDSketch quantiles merged from chunks are
// within its 1% relative accuracy of the exact values, and the HLL
// distinct count of a column of many values within 3 standard errors.
func TestQuantilesWithinBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var b bytes.Buffer
	b.WriteString("x,u\n")
	var xs []float64
	for i := range 100000 {
		x := math.Exp(rng.NormFloat64()*2) * float64(1-2*(i%5/4))
		xs = append(xs, x)
		fmt.Fprintf(&b, "%s,u%d\n", formatFloat(x), i)
	}
	p, _ := profileOf(t, b.Bytes(), table.Spec{Format: table.CSV}, nil)
	s := Summarize(p, noTypes)
	sort.Float64s(xs)
	q := s.Columns[0].Quantiles
	for i, got := range []float64{q.P01, q.P05, q.P25, q.P50, q.P75, q.P95, q.P99} {
		want := xs[int([]float64{0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99}[i]*float64(len(xs)-1))]
		if math.Abs(got-want) > relativeAccuracy*math.Abs(want)*1.0001 {
			t.Errorf("quantile %d: %v, exact %v", i, got, want)
		}
	}
	u := s.Columns[1]
	if u.DistinctExact || math.Abs(float64(u.Distinct)-100000) > 3*hllStdErr*100000 {
		t.Errorf("distinct %d (exact %v), want 100000 within 3 standard errors", u.Distinct, u.DistinctExact)
	}
}

// TestDriftShiftedColumn: +2σ on 30% of one column's rows is flagged, an
// untouched column of the same table is not, and an unchanged table
// drifts by nothing at all.
func TestDriftShiftedColumn(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	xs, ys := make([]float64, 20000), make([]float64, 20000)
	for i := range xs {
		xs[i], ys[i] = 100+10*rng.NormFloat64(), 50+5*rng.NormFloat64()
	}
	write := func(shift bool) []byte {
		var b bytes.Buffer
		b.WriteString("x,y,c\n")
		for i := range xs {
			x := xs[i]
			if shift && i%10 < 3 {
				x += 20
			}
			fmt.Fprintf(&b, "%.4f,%.4f,c%d\n", x, ys[i], i%7)
		}
		return b.Bytes()
	}
	spec := table.Spec{Format: table.CSV}
	a, _ := profileOf(t, write(false), spec, nil)
	same, _ := profileOf(t, write(false), spec, nil)
	b, _ := profileOf(t, write(true), spec, nil)
	th := func(string) Thresholds { return DefaultThresholds }
	for _, d := range Compare(a, same, th) {
		if *d.PSI != 0 || d.KS != nil && *d.KS != 0 || d.NullChange != 0 || d.DistinctChange != 0 || len(d.Breaches) > 0 {
			t.Errorf("unchanged %s drifts: %+v", d.Name, d)
		}
	}
	ds := Compare(a, b, th)
	if len(ds[0].Breaches) == 0 || *ds[0].PSI < 0.2 || *ds[0].KS < 0.1 {
		t.Errorf("shifted x not flagged: psi %v ks %v", *ds[0].PSI, *ds[0].KS)
	}
	for _, d := range ds[1:] {
		if len(d.Breaches) > 0 || *d.PSI != 0 {
			t.Errorf("untouched %s flagged: %+v", d.Name, d)
		}
	}
}

// TestEdgeCases: an empty file, a header alone, an all-null column and a
// JSONL row without a column.
func TestEdgeCases(t *testing.T) {
	p, _ := profileOf(t, nil, table.Spec{Format: table.CSV}, nil)
	if s := Summarize(p, noTypes); s.Rows != 0 || len(s.Columns) != 0 {
		t.Errorf("empty: %+v", s)
	}
	p, _ = profileOf(t, []byte("a,b\n"), table.Spec{Format: table.CSV}, nil)
	if s := Summarize(p, noTypes); s.Rows != 0 || len(s.Columns) != 2 || s.Columns[0].Type != "empty" {
		t.Errorf("header only: %+v", s)
	}
	p, _ = profileOf(t, []byte("a,b\n1,\n2,\n"), table.Spec{Format: table.CSV}, nil)
	if s := Summarize(p, noTypes); s.Columns[1].Nulls != 2 || s.Columns[1].Type != "empty" || s.Columns[0].Type != "int" {
		t.Errorf("all-null column: %+v", s)
	}
	p, _ = profileOf(t, []byte("d,t\n2020-05-05,2020-05-05T10:00:00+02:00\n0001-01-01,9999-12-31T23:59:59.5Z\n9999-12-31,0001-01-01T00:00:00Z\n"), table.Spec{Format: table.CSV}, nil)
	if s := Summarize(p, noTypes); s.Columns[0].Type != "date" || s.Columns[0].Min != "0001-01-01" || s.Columns[0].Max != "9999-12-31" ||
		s.Columns[1].Type != "timestamp" || s.Columns[1].Min != "0001-01-01T00:00:00Z" || s.Columns[1].Max != "9999-12-31T23:59:59.5Z" {
		t.Errorf("dates far apart: %+v", s.Columns)
	}
	p, _ = profileOf(t, []byte(`{"a":1,"b":"x"}`+"\n"+`{"a":2}`+"\n"+`{"a":null,"b":"2020-01-02"}`+"\n"), table.Spec{Format: table.JSONL}, nil)
	s := Summarize(p, noTypes)
	if s.Rows != 3 || s.Columns[0].Nulls != 1 || s.Columns[1].Nulls != 1 || s.Columns[1].Type != "string" || s.Columns[0].Mean == nil || *s.Columns[0].Mean != 1.5 {
		t.Errorf("jsonl: %+v", s)
	}
}

// TestEncodeRoundTrip: a decoded profile summarizes as the original.
func TestEncodeRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	next := 0
	data := writeCSV(genRows(rng, 2000, &next))
	p, _ := profileOf(t, data, table.Spec{Format: table.CSV}, nil)
	b, err := p.Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := json.Marshal(Summarize(p, noTypes))
	y, _ := json.Marshal(Summarize(q, noTypes))
	if !bytes.Equal(x, y) {
		t.Fatalf("round trip differs:\n%s\n%s", x, y)
	}
	if _, err := Decode(b[:len(b)-3]); err == nil {
		t.Fatal("a truncated profile decodes")
	}
}

// TestCorruptCacheEntry: a span's cached profile that does not decode is
// computed again; the profile is the same.
func TestCorruptCacheEntry(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	next := 0
	data := writeCSV(genRows(rng, 1500, &next))
	spec := table.Spec{Format: table.CSV}
	cache := newMemCache()
	p, st := profileOf(t, data, spec, cache)
	want, _ := json.Marshal(Summarize(p, noTypes))
	// Three entries cut short: two no longer hash as recorded, one is
	// hashed anew (it passes the check, then does not decode: merged in
	// part).
	n := 0
	for k, v := range cache.m {
		if k[0] == 's' && n < 3 {
			body := v[:len(v)/2]
			if n == 0 {
				body = binary.LittleEndian.AppendUint64(slices.Clip(v[:len(v)*3/4-8]), xxh3.Hash(v[:len(v)*3/4-8]))
			}
			cache.m[k] = body
			n++
		}
	}
	q, st2 := profileOf(t, data, spec, cache)
	got, _ := json.Marshal(Summarize(q, noTypes))
	if !bytes.Equal(got, want) || st2.Computed != 3 || st2.Reused != st.Spans-3 {
		t.Fatalf("after corrupting 3 entries: computed %d of %d\n%s\n%s", st2.Computed, st.Spans, got, want)
	}
}

// TestFastTime: the fast reading of dates and UTC timestamps agrees with
// time.Parse, and leaves the rest to it.
func TestFastTime(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	cases := []string{"2024-02-29", "2023-02-29", "2024-13-01", "0001-01-01", "9999-12-31T23:59:59Z", "2020-01-01T24:00:00Z",
		"2020-01-01T10:00:00.5Z", "2020-01-01T10:00:00.123456789Z", "2020-01-01T10:00:00.Z", "2020-01-01t10:00:00Z", "2020-01-01T10:00:00+01:00", "1969-12-31T23:59:59.999Z"}
	for range 2000 {
		ts := time.Unix(rng.Int64N(1e11)-5e10, rng.Int64N(1e9)).UTC()
		cases = append(cases, ts.Format(time.RFC3339Nano), ts.Format(time.RFC3339), ts.Format(time.DateOnly))
	}
	for _, c := range cases {
		got, ok := fastTime([]byte(c))
		layout := time.RFC3339Nano
		if len(c) == 10 {
			layout = time.DateOnly
		}
		want, err := time.Parse(layout, c)
		if ok && (err != nil || instantOf(want) != got) {
			t.Errorf("%s: fast %v, time.Parse %v %v", c, got, want, err)
		}
		if !ok && err == nil && !strings.ContainsAny(c[10:], "+-") && strings.HasSuffix(c, "Z") {
			t.Errorf("%s: the fast path left a plain UTC timestamp", c)
		}
	}
}
