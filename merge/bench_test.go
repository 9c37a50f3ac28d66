package merge_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
	"github.com/dxdata/dx/store/chunker"
)

// benchTable is a CSV table of n rows of about 90 bytes, sorted by key,
// without the rows in drop and with row i's amount set to amounts[i]
// where present.
func benchTable(n int, amounts map[int]int, drop map[int]bool) []byte {
	var b bytes.Buffer
	b.WriteString("id,name,email,city,amount,created_at,note\n")
	for i := range n {
		if drop[i] {
			continue
		}
		amount, ok := amounts[i]
		if !ok {
			amount = i % 50000
		}
		fmt.Fprintf(&b, "%d,Niaj Jones,niaj.jones%d@corp.example,Quito,%d.89,2020-01-01T00:02:41Z,late partial\n", 1000000+i, i%997, amount)
	}
	return b.Bytes()
}

// benchEdits picks n scattered rows among the first rows of a table to
// change (and every fourth of them to remove), seeded.
func benchEdits(seed uint64, rows, n int) (map[int]int, map[int]bool) {
	r := rand.New(rand.NewPCG(seed, seed))
	amounts, drop := map[int]int{}, map[int]bool{}
	for len(amounts)+len(drop) < n {
		i := r.IntN(rows)
		if len(amounts)%4 == 3 {
			drop[i] = true
		} else {
			amounts[i] = 100000 + r.IntN(100000)
		}
	}
	return amounts, drop
}

const benchRows = 150000

var benchSpec = table.Spec{Format: table.CSV, Key: []string{"id"}}

// BenchmarkDiffRows diffs two versions of a table: with trusted chunk
// boundaries (scattered changes: chunk matching, trimming and pairing of
// equal rows) and with both files parsed whole (row splitting, parsing,
// compare by key).
func BenchmarkDiffRows(b *testing.B) {
	co := chunker.DefaultOptions().ForMode(chunker.CSV)
	base := benchTable(benchRows, nil, nil)
	amounts, drop := benchEdits(1, benchRows, 200)
	after := benchTable(benchRows, amounts, drop)
	a, c := chunked(b, base, co), chunked(b, after, co)
	t := table.New(benchSpec)
	for _, bc := range []struct {
		name string
		o    merge.DiffOptions
	}{
		{"aligned", merge.DiffOptions{Aligned: true, MaxChunk: co.Max}},
		{"whole", merge.DiffOptions{}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(base) + len(after)))
			for b.Loop() {
				d, err := merge.DiffRows(context.Background(), t, a, c, bc.o)
				if err != nil {
					b.Fatal(err)
				}
				if len(d.Changes) != 200 {
					b.Fatalf("%d changes, want 200", len(d.Changes))
				}
			}
		})
	}
}

// BenchmarkMergeRows merges two sides' scattered, disjoint changes to a
// table: as MergeRows does, and with no runs taken whole and both sides
// diffed in full.
func BenchmarkMergeRows(b *testing.B) {
	co := chunker.DefaultOptions().ForMode(chunker.CSV)
	base := benchTable(benchRows, nil, nil)
	ao, do := benchEdits(2, benchRows/2, 100) // ours: the first half
	at, dt := benchEdits(3, benchRows/2, 100) // theirs: the second half
	shift := func(m map[int]int) map[int]int {
		out := map[int]int{}
		for i, v := range m {
			out[i+benchRows/2] = v
		}
		return out
	}
	dts := map[int]bool{}
	for i := range dt {
		dts[i+benchRows/2] = true
	}
	baseSrc := chunked(b, base, co)
	oursSrc := chunked(b, benchTable(benchRows, ao, do), co)
	theirsSrc := chunked(b, benchTable(benchRows, shift(at), dts), co)
	t := table.New(benchSpec)
	o := merge.DiffOptions{Aligned: true, MaxChunk: co.Max}
	for _, bc := range []struct {
		name  string
		plain bool
	}{{"takes", false}, {"plain", true}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(3 * len(base)))
			for b.Loop() {
				m, err := merge.MergeRowsForTest(context.Background(), t, baseSrc, oursSrc, theirsSrc, o, 0, bc.plain)
				if err != nil {
					b.Fatal(err)
				}
				if len(m.Conflicts) != 0 || m.Added+m.Changed+m.Removed != 100 {
					b.Fatalf("%d conflicts, %d changes applied", len(m.Conflicts), m.Added+m.Changed+m.Removed)
				}
			}
		})
	}
}
