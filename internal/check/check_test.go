package check

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/contract"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
)

// memSource is a table file in memory, cut after a row whose hash says so
// (content-defined, so versions share the chunks of rows they share).
type memSource struct {
	chunks [][]byte
	refs   []dag.ChunkRef
}

func newMemSource(data string) *memSource {
	s := &memSource{}
	start := 0
	for i := 0; i < len(data); i++ {
		if data[i] != '\n' {
			continue
		}
		line := data[start : i+1]
		if i+1 == len(data) || dag.Hash(dag.KindChunk, []byte(line))[0]%5 == 0 {
			s.add(data[start : i+1])
			start = i + 1
		}
	}
	if start < len(data) {
		s.add(data[start:])
	}
	return s
}

func (s *memSource) add(c string) {
	s.chunks = append(s.chunks, []byte(c))
	s.refs = append(s.refs, dag.ChunkRef{ID: dag.Hash(dag.KindChunk, []byte(c)), Len: uint32(len(c))})
}

func (s *memSource) Chunks() []dag.ChunkRef { return s.refs }

func (s *memSource) AppendChunk(_ context.Context, i int, dst []byte) ([]byte, error) {
	return append(dst, s.chunks[i]...), nil
}

func version(data string) Version {
	return Version{Path: "t.csv", Source: newMemSource(data), Cut: merge.DiffOptions{Aligned: true, MaxChunk: 1 << 30}}
}

func tableText(rows [][]string) string {
	var b strings.Builder
	b.WriteString("id,name,n\n")
	for _, r := range rows {
		b.WriteString(strings.Join(r, ","))
		b.WriteByte('\n')
	}
	return b.String()
}

// TestFull: a whole version's first broken rule, at its line.
func TestFull(t *testing.T) {
	tb := table.New(table.Spec{Format: table.CSV, Key: []string{"id"}})
	for _, tc := range []struct{ data, want string }{
		{"id,name,n\n1,a,1\n2,b,2\n", ""},
		{"id,name,n\n1,a,1\n2,b\n", "t.csv:3: wrong number of fields"},
		{"id,name,n\n1,a,1\n2,\"b,2\n", "t.csv:3: "},
		{"id,name,n\n1,a,1\n2,b,2\n1,c,3\n", `t.csv:4: duplicate key "1" (first on line 2)`},
		{"id,name,n\n3,a,1\n2,b,2\n3,c,3\n", `t.csv:4: duplicate key "3" (first on line 2)`},
		{"x,name,n\n1,a,1\n", `t.csv:1: key column "id" is not in the header`},
		{"", ""},
	} {
		err := Full(context.Background(), tb, version(tc.data))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.data, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want) || !errors.Is(err, ErrInvalid)):
			t.Errorf("%q: %v, want %s…", tc.data, err, tc.want)
		}
	}
}

// TestChangedAgreesWithFull: over random tables and random edits (rows
// updated, removed, inserted; some inserted with a key the table has, some
// ragged), checking only what changed against a valid old version finds
// the new one valid exactly when a full check does.
func TestChangedAgreesWithFull(t *testing.T) {
	tb := table.New(table.Spec{Format: table.CSV, Key: []string{"id"}})
	ctx := context.Background()
	bad := 0
	for seed := uint64(1); seed <= 300; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		n := 20 + rng.IntN(300)
		var rows [][]string
		for i := 0; i < n; i++ {
			rows = append(rows, []string{fmt.Sprint(i * 2), fmt.Sprintf("name%d", rng.IntN(1000)), fmt.Sprint(rng.IntN(100))})
		}
		if rng.IntN(3) == 0 {
			rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		}
		old := tableText(rows)
		if err := Full(ctx, tb, version(old)); err != nil {
			t.Fatalf("seed %d: the old version: %v", seed, err)
		}
		edited := slices.Clone(rows)
		for e := 0; e < 1+rng.IntN(5); e++ {
			i := rng.IntN(len(edited))
			switch rng.IntN(6) {
			case 0:
				edited[i] = []string{edited[i][0], "changed", "0"}
			case 1:
				edited = slices.Delete(edited, i, i+1)
			case 2:
				edited = slices.Insert(edited, i, []string{fmt.Sprint(2*n + 1 + 2*e), "new", "1"})
			case 3:
				edited = append(edited, []string{fmt.Sprint(2*n + 1 + 2*e), "appended", "1"})
			case 4: // a key the table has
				edited = slices.Insert(edited, rng.IntN(len(edited)+1), []string{edited[rng.IntN(len(edited))][0], "dup", "1"})
			case 5: // a ragged row
				edited[i] = []string{edited[i][0], "ragged"}
			}
			if len(edited) == 0 {
				edited = append(edited, []string{"1", "x", "1"})
			}
		}
		nv := tableText(edited)
		full := Full(ctx, tb, version(nv))
		changed := Changed(ctx, tb, version(old), version(nv))
		if (full == nil) != (changed == nil) {
			t.Fatalf("seed %d: full check %v, check of the change %v\nold:\n%s\nnew:\n%s", seed, full, changed, old, nv)
		}
		if full != nil {
			bad++
			if !errors.Is(changed, ErrInvalid) {
				t.Fatalf("seed %d: %v is not a violation", seed, changed)
			}
		}
	}
	if bad == 0 || bad == 300 {
		t.Fatalf("%d of 300 edits invalid: the test tests one side only", bad)
	}
}

const contractText = `tables:
  - path: t.csv
    columns:
      - name: id
        type: int
        required: true
      - name: name
        required: true
        regex: 'name[0-9]+'
      - name: n
        type: int
        min: 0
        max: 99
`

// TestContractChangedAgreesWithFull: over random tables that keep a
// contract and random edits that break its rules (or keep them), checking
// only the changed rows finds the broken rules a full check finds: the
// same first one, at the same line, and as many.
func TestContractChangedAgreesWithFull(t *testing.T) {
	c, err := contract.Parse(strings.NewReader(contractText), contract.File)
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := c.For("t.csv")
	tb := table.New(table.Spec{Format: table.CSV, Key: []string{"id"}})
	ctx := context.Background()
	withRules := func(data string) Version {
		v := version(data)
		v.Rules = ct.Checker(false)
		return v
	}
	broken := 0
	for seed := uint64(1); seed <= 300; seed++ {
		rng := rand.New(rand.NewPCG(seed, 11))
		n := 20 + rng.IntN(300)
		var rows [][]string
		for i := 0; i < n; i++ {
			rows = append(rows, []string{fmt.Sprint(i * 2), fmt.Sprintf("name%d", rng.IntN(1000)), fmt.Sprint(rng.IntN(100))})
		}
		old := tableText(rows)
		if err := Full(ctx, tb, withRules(old)); err != nil {
			t.Fatalf("seed %d: the old version: %v", seed, err)
		}
		edited := slices.Clone(rows)
		for e := 0; e < 1+rng.IntN(6); e++ {
			i := rng.IntN(len(edited))
			row := slices.Clone(edited[i])
			switch rng.IntN(7) {
			case 0:
				row[2] = fmt.Sprint(100 + rng.IntN(50)) // max
			case 1:
				row[2] = "-1" // min
			case 2:
				row[2] = "many" // type
			case 3:
				row[1] = "" // required
			case 4:
				row[1] = "Name 7" // regex
			case 5:
				row[2] = fmt.Sprint(rng.IntN(100)) // keeps the rules
			case 6:
				edited = slices.Delete(edited, i, i+1)
				continue
			}
			if rng.IntN(2) == 0 {
				edited[i] = row
			} else {
				row[0] = fmt.Sprint(2*n + 1 + 2*e)
				edited = slices.Insert(edited, i, row)
			}
		}
		if len(edited) == 0 {
			continue
		}
		nv := tableText(edited)
		full := Full(ctx, tb, withRules(nv))
		changed := Changed(ctx, tb, withRules(old), withRules(nv))
		if fmt.Sprint(full) != fmt.Sprint(changed) {
			t.Fatalf("seed %d: full check %v, check of the change %v\nold:\n%s\nnew:\n%s", seed, full, changed, old, nv)
		}
		if full != nil {
			broken++
			var v *Violation
			if !errors.As(full, &v) || v.Line < 2 || !errors.Is(full, ErrInvalid) {
				t.Fatalf("seed %d: %v is not a violation at a row", seed, full)
			}
		}
	}
	if broken < 50 || broken > 290 {
		t.Fatalf("%d of 300 edits broke the contract: the test tests one side only", broken)
	}
}

// TestContractHeader: a column the contract names and the header lacks
// is one violation at line 1, not one a row; rows are still checked.
func TestContractHeader(t *testing.T) {
	c, err := contract.Parse(strings.NewReader(contractText), contract.File)
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := c.For("t.csv")
	v := version("id,n\n1,5\n2,500\n3,7\n")
	v.Rules = ct.Checker(false)
	err = Full(context.Background(), table.New(table.Spec{Format: table.CSV, Key: []string{"id"}}), v)
	if err == nil || err.Error() != `t.csv:1: name: missing column: "" (and 1 more)` {
		t.Fatalf("got %v", err)
	}
}

// TestContractRowCount: a contract's row bounds, checked whole and
// against a change (the old count known, or not: then the new version is
// checked whole), agree, and a passing check reports the count.
func TestContractRowCount(t *testing.T) {
	c, err := contract.Parse(strings.NewReader("tables:\n  - path: t.csv\n    rows: {min: 2, max: 4}\n"), contract.File)
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := c.For("t.csv")
	tb := table.New(table.Spec{Format: table.CSV, Key: []string{"id"}})
	ctx := context.Background()
	ver := func(data string, count *int64) Version {
		v := version(data)
		v.Rules, v.Count = ct.Checker(false), count
		return v
	}
	old := "id,name,n\n1,a,1\n2,b,2\n3,c,3\n"
	var n int64 = -1
	if err := Full(ctx, tb, ver(old, &n)); err != nil || n != 3 {
		t.Fatalf("old: %v, count %d", err, n)
	}
	for _, tc := range []struct{ data, want string }{
		{"id,name,n\n1,a,1\n2,b,2\n3,c,3\n4,d,4\n", ""},
		{"id,name,n\n1,a,1\n2,b,2\n3,c,3\n4,d,4\n5,e,5\n", "t.csv: (rows): max 4: 5"},
		{"id,name,n\n2,b,2\n", "t.csv: (rows): min 2: 1"},
		{"id,name,n\n", "t.csv: (rows): min 2: 0"},
	} {
		full := Full(ctx, tb, ver(tc.data, nil))
		for _, known := range []bool{true, false} {
			o := ver(old, nil)
			if known {
				o.Rows = &n
			}
			var got int64 = -1
			changed := Changed(ctx, tb, o, ver(tc.data, &got))
			if fmt.Sprint(changed) != fmt.Sprint(full) || fmt.Sprint(full) != fmt.Sprint(errOrNil(tc.want)) {
				t.Errorf("%q (old count known: %v): full %v, changed %v, want %q", tc.data, known, full, changed, tc.want)
			}
			if want := int64(strings.Count(tc.data, "\n") - 1); tc.want == "" && got != want {
				t.Errorf("%q: counted %d rows, want %d", tc.data, got, want)
			}
		}
	}
}

func errOrNil(msg string) error {
	if msg == "" {
		return nil
	}
	return errors.New(msg)
}

// memRanges is a ValueRanges in memory that counts what it is asked.
type memRanges struct {
	m          map[string]ValueRange
	gets, hits int
}

func (r *memRanges) Get(col string, c dag.ID) (ValueRange, bool) {
	r.gets++
	v, ok := r.m[col+c.String()]
	if ok {
		r.hits++
	}
	return v, ok
}

func (r *memRanges) Put(es []RangeEntry) {
	for _, e := range es {
		r.m[e.Col+e.Chunk.String()] = e.Range
	}
}

// TestUniqueChangedAgreesWithFull: a unique column other than the key,
// over random tables and edits (values made to repeat one the table keeps,
// one the change brings twice, one a changed row gives up, or fresh),
// checked against the change finds what a full check finds; the ranges
// a full check learns spare reading the old version's other chunks.
func TestUniqueChangedAgreesWithFull(t *testing.T) {
	c, err := contract.Parse(strings.NewReader("tables:\n  - path: t.csv\n    columns:\n      - name: name\n        unique: true\n"), contract.File)
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := c.For("t.csv")
	tb := table.New(table.Spec{Format: table.CSV, Key: []string{"id"}})
	ctx := context.Background()
	broken, spared := 0, 0
	for seed := uint64(1); seed <= 300; seed++ {
		rng := rand.New(rand.NewPCG(seed, 13))
		n := 50 + rng.IntN(400)
		var rows [][]string
		for i := 0; i < n; i++ {
			rows = append(rows, []string{fmt.Sprint(i * 2), fmt.Sprintf("u%05d", i*3), fmt.Sprint(rng.IntN(100))})
		}
		ranges := &memRanges{m: map[string]ValueRange{}}
		ver := func(data string) Version {
			v := version(data)
			v.Rules, v.Ranges = ct.Checker(false), ranges
			return v
		}
		old := tableText(rows)
		if err := Full(ctx, tb, ver(old)); err != nil {
			t.Fatalf("seed %d: the old version: %v", seed, err)
		}
		edited := slices.Clone(rows)
		for e := 0; e < 1+rng.IntN(4); e++ {
			i := rng.IntN(len(edited))
			row := slices.Clone(edited[i])
			switch rng.IntN(5) {
			case 0: // a value another row keeps
				row[1] = edited[rng.IntN(len(edited))][1]
			case 1: // a fresh value
				row[1] = fmt.Sprintf("u%05d", 3*n+1+e)
			case 2: // give up its value to an inserted row
				inserted := []string{fmt.Sprint(2*n + 1 + 2*e), row[1], "1"}
				row[1] = fmt.Sprintf("v%05d", e)
				edited = append(edited, inserted)
			case 3: // an empty value (null: not unique)
				row[1] = ""
			case 4:
				row[2] = "7"
			}
			edited[i] = row
		}
		nv := tableText(edited)
		full := Full(ctx, tb, ver(nv))
		before := ranges.hits
		changed := Changed(ctx, tb, ver(old), ver(nv))
		if fmt.Sprint(full) != fmt.Sprint(changed) {
			if full == nil || changed == nil || !strings.Contains(full.Error(), "unique") || !strings.Contains(changed.Error(), "unique") {
				t.Fatalf("seed %d: full check %v, check of the change %v\nold:\n%s\nnew:\n%s", seed, full, changed, old, nv)
			}
		}
		if full != nil {
			broken++
		}
		if ranges.hits > before {
			spared++
		}
	}
	if broken < 30 || broken > 270 {
		t.Fatalf("%d of 300 edits broke uniqueness: the test tests one side only", broken)
	}
	if spared == 0 {
		t.Fatal("no chunk range was ever used")
	}
}

// TestMergedAgreesWithFull: a merge's result is checked against ours, as
// dx merge checks it. Two branches each edit rows of a table that keeps
// a contract (a required, a unique and a bounded column), each side
// valid on its own; their merge (both edit sets applied, disjoint rows)
// may bring a value twice or leave one taken. The check of the merged
// result against ours gives the verdict a full check gives.
func TestMergedAgreesWithFull(t *testing.T) {
	c, err := contract.Parse(strings.NewReader("tables:\n  - path: t.csv\n    columns:\n      - name: name\n        required: true\n        unique: true\n      - name: n\n        type: int\n        max: 99\n"), contract.File)
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := c.For("t.csv")
	tb := table.New(table.Spec{Format: table.CSV, Key: []string{"id"}})
	ctx := context.Background()
	ranges := &memRanges{m: map[string]ValueRange{}}
	ver := func(rows [][]string) Version {
		v := version(tableText(rows))
		v.Rules, v.Ranges = ct.Checker(false), ranges
		return v
	}
	broken := 0
	for seed := uint64(1); seed <= 200; seed++ {
		rng := rand.New(rand.NewPCG(seed, 17))
		n := 30 + rng.IntN(200)
		var base [][]string
		for i := 0; i < n; i++ {
			base = append(base, []string{fmt.Sprint(i * 2), fmt.Sprintf("u%04d", i), fmt.Sprint(rng.IntN(100))})
		}
		// Each side edits its own rows: even indexes ours, odd theirs.
		side := func(parity int) map[int][]string {
			edits := map[int][]string{}
			for e := 0; e < 1+rng.IntN(4); e++ {
				i := 2*rng.IntN(n/2) + parity
				row := slices.Clone(base[i])
				switch rng.IntN(3) {
				case 0: // a value nobody has, shared by chance with the other side
					row[1] = fmt.Sprintf("x%02d", rng.IntN(6))
				case 1:
					row[2] = fmt.Sprint(rng.IntN(100))
				case 2: // give its name up
					row[1] = fmt.Sprintf("gone%04d-%d", i, parity)
				}
				edits[i] = row
			}
			return edits
		}
		ours, theirs := side(0), side(1)
		apply := func(sets ...map[int][]string) [][]string {
			out := slices.Clone(base)
			for _, set := range sets {
				for i, row := range set {
					out[i] = row
				}
			}
			return out
		}
		oursRows, theirsRows, merged := apply(ours), apply(theirs), apply(ours, theirs)
		if Full(ctx, tb, ver(oursRows)) != nil || Full(ctx, tb, ver(theirsRows)) != nil {
			continue // a side is invalid on its own: not a merge of valid sides
		}
		full := Full(ctx, tb, ver(merged))
		check := Changed(ctx, tb, ver(oursRows), ver(merged))
		if (full == nil) != (check == nil) {
			t.Fatalf("seed %d: full check %v, check against ours %v", seed, full, check)
		}
		if full != nil {
			broken++
		}
	}
	if broken == 0 {
		t.Fatal("no merge of valid sides broke the contract: the test tests one side only")
	}
}
