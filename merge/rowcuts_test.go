package merge_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dxdata/dx/internal/csvdialect"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
	"github.com/dxdata/dx/store/chunker"
)

// cutSource is a memSource that says which of its cuts fall inside a row
// of dialect d (merge.RowCutter), as its chunks' transitions composed from
// the file's start tell.
type cutSource struct {
	*memSource
	inside []int
}

func (s *cutSource) CutsInsideRows() []int { return s.inside }

func withCuts(s *memSource, d csvdialect.Dialect) *cutSource {
	cs := &cutSource{memSource: s}
	st := csvdialect.FieldStart
	for i, c := range s.chunks[:max(len(s.chunks)-1, 0)] {
		var end bool
		if st, end = d.Transitions(c).Next(st); !end {
			cs.inside = append(cs.inside, i)
		}
	}
	return cs
}

// semicolons encodes g as a CSV with ';' between fields, quoting with '"'
// the values that hold ';', '"' or a line end: the chunker reads it as
// the default dialect, where a quote after ';' is text, and so cuts at
// line ends inside its quoted fields.
func (g *genTable) semicolons() []byte {
	var b bytes.Buffer
	for _, rec := range append([][]string{g.cols}, g.rows...) {
		for j, v := range rec {
			if j > 0 {
				b.WriteByte(';')
			}
			if strings.ContainsAny(v, ";\"\n\r") {
				v = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
			}
			b.WriteString(v)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// TestDiffRowsCutsInsideRows: on tables whose chunks are cut inside quoted
// fields, a row diff told which cuts those are reports exactly the edited
// keys and, for one edit, parses a few rows, not the table.
func TestDiffRowsCutsInsideRows(t *testing.T) {
	ctx := context.Background()
	d := csvdialect.Dialect{Comma: ';', Quote: '"'}
	spec := table.Spec{Format: table.CSV, Key: []string{"id"}, Dialect: d}
	co := chunker.Options{Min: 256, Avg: 1024, Max: 1 << 20, Mode: chunker.CSV}
	r := rand.New(rand.NewPCG(3, 4))
	next, inside := 0, 0
	for round := range 40 {
		base := genRows(r, 300+r.IntN(700))
		for _, row := range base.rows {
			if r.IntN(4) == 0 {
				// A quoted field whose lines read as rows when read
				// from inside it.
				row[3] = fmt.Sprintf("line one; %d\nk%07d;fake;1;\"x\"\nthree", r.IntN(1e6), r.IntN(len(base.rows)))
			}
		}
		nEdits := []int{1, 2, 10, 100}[round%4]
		after, want := edit(r, base, nEdits, &next)
		a, b := withCuts(chunked(t, base.semicolons(), co), d), withCuts(chunked(t, after.semicolons(), co), d)
		inside += len(a.inside) + len(b.inside)
		rd, err := merge.DiffRows(ctx, table.New(spec), a, b, merge.DiffOptions{Aligned: true, MaxChunk: co.Max})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if g := got(t, rd); diffKinds(g, want) != "" {
			t.Fatalf("round %d (%d edits):\n%s", round, nEdits, diffKinds(g, want))
		}
		if nEdits == 1 && rd.Stats.BytesParsed > rd.Stats.BytesTotal/4 {
			t.Errorf("round %d: one edit parsed %d of %d bytes", round, rd.Stats.BytesParsed, rd.Stats.BytesTotal)
		}
	}
	if inside == 0 {
		t.Fatal("no cut inside a row: the test tests nothing")
	}
}
