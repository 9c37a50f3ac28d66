package merge_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/dxdata/dx/dag"
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

// TestMergeRowsCutsInsideRows: disjoint random edits on two branches of
// ';' tables cut inside quoted fields merge to both change sets applied,
// taking runs whole or not, with the sources saying which cuts fall inside
// rows.
func TestMergeRowsCutsInsideRows(t *testing.T) {
	ctx := context.Background()
	d := csvdialect.Dialect{Comma: ';', Quote: '"'}
	spec := table.Spec{Format: table.CSV, Key: []string{"id"}, Dialect: d}
	tab := table.New(spec)
	co := chunker.Options{Min: 256, Avg: 1024, Max: 4096, Mode: chunker.CSV}
	r := rand.New(rand.NewPCG(5, 6))
	takes, inside := 0, 0
	for round := range 30 {
		base := genRows(r, 300+r.IntN(700))
		for _, row := range base.rows {
			if r.IntN(3) == 0 {
				row[3] = fmt.Sprintf("line one; %d\nk%07d;fake;1;\"x\"\nthree", r.IntN(1e6), r.IntN(len(base.rows)))
			}
		}
		taken := map[string]bool{}
		n := []int{1, 5, 40}[round%3]
		eo, oo := randEdits(r, base, n, "o", taken, true)
		et, ot := randEdits(r, base, n, "t", taken, round%2 == 1)
		ours, theirs := applyEdits(base, eo, oo), applyEdits(base, et, ot)
		want, _ := bothApplied(base, eo, oo, et, ot)
		b, o, th := withCuts(chunked(t, base.semicolons(), co), d), withCuts(chunked(t, ours.semicolons(), co), d), withCuts(chunked(t, theirs.semicolons(), co), d)
		inside += len(b.inside) + len(o.inside) + len(th.inside)
		for _, noShortcuts := range []bool{false, true} {
			m, err := merge.MergeRowsForTest(ctx, tab, b, o, th, merge.DiffOptions{Aligned: true, MaxChunk: co.Max}, 0, noShortcuts)
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			if len(m.Conflicts) != 0 {
				t.Fatalf("round %d: %d conflicts on disjoint edits", round, len(m.Conflicts))
			}
			out := assemble(t, m, b.memSource, o.memSource, th.memSource)
			_, got := rowsOf(t, spec, out)
			if len(got) != len(want) {
				t.Fatalf("round %d (shortcuts %v): %d rows, want %d", round, !noShortcuts, len(got), len(want))
			}
			for k, w := range want {
				if g, ok := got[k]; !ok || !slices.Equal(g, w) {
					t.Fatalf("round %d (shortcuts %v): key %s: got %q, want %q", round, !noShortcuts, k, g, w)
				}
			}
			takes += m.Taken
		}
	}
	if inside == 0 || takes == 0 {
		t.Fatalf("%d cuts inside rows, %d runs taken whole: the test tests too little", inside, takes)
	}
}

// quotedChunks is a small ';' table of rows rows, some with a quoted
// field over two lines, cut by hand into chunks of one to two lines
// (the header alone first): some cuts fall inside quoted fields.
func quotedChunks(r *rand.Rand, rows int) [][]byte {
	var lines [][]byte
	for i := range rows {
		if r.IntN(2) == 0 {
			lines = append(lines, fmt.Appendf(nil, "%d;a%d;\"p\n", i, r.IntN(3)), fmt.Appendf(nil, "q%d\"\n", r.IntN(3)))
		} else {
			lines = append(lines, fmt.Appendf(nil, "%d;b%d;c\n", i, r.IntN(3)))
		}
	}
	chunks := [][]byte{[]byte("id;v;w\n")}
	for i := 0; i < len(lines); {
		var c []byte
		for k := 0; k <= r.IntN(2) && i < len(lines); k++ {
			c, i = append(c, lines[i]...), i+1
		}
		chunks = append(chunks, c)
	}
	return chunks
}

// TestDiffRowsCutsInsideRowsMoved: small ';' tables cut by hand, some
// cuts inside quoted fields, and their chunks swapped or replaced on one
// side: a row diff reading across the cuts inside rows finds what parsing
// both sides whole finds. (A chunk shared by both sides may start inside
// a quoted field on one side only; without widen's alike rule, about one
// case in eight differs.)
func TestDiffRowsCutsInsideRowsMoved(t *testing.T) {
	ctx := context.Background()
	d := csvdialect.Dialect{Comma: ';', Quote: '"'}
	tab := table.New(table.Spec{Format: table.CSV, Key: []string{"id"}, Dialect: d})
	compared := 0
	for seed := range uint64(4000) {
		r := rand.New(rand.NewPCG(seed, 1))
		a := quotedChunks(r, 6+r.IntN(6))
		b := slices.Clone(a)
		i, j := 1+r.IntN(len(b)-1), 1+r.IntN(len(b)-1)
		b[i], b[j] = b[j], b[i]
		if r.IntN(2) == 0 {
			b[1+r.IntN(len(b)-1)] = fmt.Appendf(nil, "%d;z;z\n", 100+r.IntN(5))
		}
		sa, sb := byHand(a), byHand(b)
		whole, err := merge.DiffRows(ctx, tab, sa, sb, merge.DiffOptions{})
		if err != nil {
			continue // not a table on some side
		}
		compared++
		got, err := merge.DiffRows(ctx, tab, withCuts(sa, d), withCuts(sb, d), merge.DiffOptions{Aligned: true})
		if err != nil || !slices.Equal(changeList(got), changeList(whole)) {
			t.Fatalf("seed %d: %q against %q: parsed whole %q; across the cuts inside rows %q, %v", seed, a, b, changeList(whole), changeList(got), err)
		}
	}
	if compared < 1000 {
		t.Fatalf("%d cases compared", compared)
	}
}

// byHand is a memSource of the given chunks.
func byHand(chunks [][]byte) *memSource {
	s := &memSource{}
	for _, c := range chunks {
		s.chunks = append(s.chunks, c)
		s.refs = append(s.refs, dag.ChunkRef{ID: dag.Hash(dag.KindChunk, c), Len: uint32(len(c))})
	}
	return s
}

// changeList lists a diff's changes, with the new values, sorted.
func changeList(d *merge.RowDiff) []string {
	if d == nil {
		return nil
	}
	var out []string
	for _, c := range d.Changes {
		s := string(c.Kind) + " " + c.Key
		if c.New != nil {
			s += fmt.Sprintf(" %q", c.New.Vals)
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// TestMergeRowsCutsInsideRowsMoved: small ';' tables cut by hand, some
// cuts inside quoted fields, merged after chunks were swapped, replaced or
// added on each side: merging across the cuts inside rows, taking runs
// whole or not, gives the rows that parsing all three whole gives, files
// that end inside a quoted field included.
func TestMergeRowsCutsInsideRowsMoved(t *testing.T) {
	ctx := context.Background()
	d := csvdialect.Dialect{Comma: ';', Quote: '"'}
	spec := table.Spec{Format: table.CSV, Key: []string{"id"}, Dialect: d}
	tab := table.New(spec)
	compared := 0
	for seed := range uint64(3000) {
		r := rand.New(rand.NewPCG(seed, 2))
		base := quotedChunks(r, 8+r.IntN(8))
		edit := func() [][]byte {
			b := slices.Clone(base)
			switch r.IntN(3) {
			case 0:
				i, j := 1+r.IntN(len(b)-1), 1+r.IntN(len(b)-1)
				b[i], b[j] = b[j], b[i]
			case 1:
				b[1+r.IntN(len(b)-1)] = fmt.Appendf(nil, "%d;z;z\n", 100+r.IntN(50))
			default:
				b = append(b, fmt.Appendf(nil, "%d;y;\"m\nn\"\n", 200+r.IntN(50)))
			}
			return b
		}
		ours, theirs := edit(), edit()
		sb, so, st := byHand(base), byHand(ours), byHand(theirs)
		whole, err := merge.MergeRows(ctx, tab, sb, so, st, merge.DiffOptions{})
		if err != nil || len(whole.Conflicts) > 0 {
			continue // not tables, or edits that conflict
		}
		_, want := rowsOf(t, spec, assemble(t, whole, sb, so, st))
		compared++
		for _, noShortcuts := range []bool{false, true} {
			m, err := merge.MergeRowsForTest(ctx, tab, withCuts(sb, d), withCuts(so, d), withCuts(st, d), merge.DiffOptions{Aligned: true}, 0, noShortcuts)
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			if _, got := rowsOf(t, spec, assemble(t, m, sb, so, st)); !maps.EqualFunc(got, want, slices.Equal) {
				t.Fatalf("seed %d (shortcuts %v): base %q, ours %q, theirs %q: parsed whole %q, across the cuts inside rows %q", seed, !noShortcuts, base, ours, theirs, want, got)
			}
		}
	}
	if compared < 1000 {
		t.Fatalf("%d merges compared", compared)
	}
}
