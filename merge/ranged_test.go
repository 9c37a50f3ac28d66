package merge_test

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
	"github.com/dxdata/dx/store/chunker"
)

// rangedSource is a memSource that knows its chunks' key ranges, computed
// by the function commits record them with; hide(i) hides chunk i's.
type rangedSource struct {
	*memSource
	spec table.Spec
	hide func(i int) bool
}

func (s *rangedSource) KeyRanges(_ context.Context, h merge.Header, idx []int) ([]dag.KeyRange, []bool, error) {
	out, ok := make([]dag.KeyRange, len(idx)), make([]bool, len(idx))
	_, rangeOf, keyed := table.New(s.spec).ChunkKeys(h)
	for k, i := range idx {
		if keyed && (s.hide == nil || !s.hide(i)) {
			out[k], ok[k] = rangeOf(s.chunks[i], i == 0)
		}
	}
	return out, ok, nil
}

// More rounds, another seed: go test ./merge -run RangedMatchesPlain
// -args -ranged.rounds 1000 -ranged.seed 5.
var (
	rangedSeed   = flag.Uint64("ranged.seed", 77, "seed of TestMergeRowsRangedMatchesPlain")
	rangedRounds = flag.Int("ranged.rounds", 40, "rounds of TestMergeRowsRangedMatchesPlain")
)

var rangedChunking = chunker.Options{Min: 256, Avg: 1024, Max: 4096, Mode: chunker.CSV}

// rangedMerge merges with key ranges known (but for the chunks hide says)
// and checks the result against the same merge without them: the same
// rows, the same conflicts. It returns the merge and its rows.
func rangedMerge(t *testing.T, base, ours, theirs *genTable, hide func(i int) bool) (*merge.RowMerge, map[string][]string) {
	return rangedMergeOpts(t, base, ours, theirs, hide, true, table.CSV)
}

// rangedMergeOpts is rangedMerge in a format; !aligned: the files' chunk
// boundaries are not trusted (both merges parse them whole).
func rangedMergeOpts(t *testing.T, base, ours, theirs *genTable, hide func(i int) bool, aligned bool, f table.Format) (*merge.RowMerge, map[string][]string) {
	t.Helper()
	e := encoding{format: f}
	spec := table.Spec{Format: f, Key: []string{"id"}}
	co := rangedChunking
	if f == table.JSONL {
		co.Mode = chunker.Lines
	}
	srcs := make([]*rangedSource, 3)
	for i, g := range []*genTable{base, ours, theirs} {
		srcs[i] = &rangedSource{memSource: chunked(t, g.encode(e), co), spec: spec, hide: hide}
	}
	o := merge.DiffOptions{Aligned: aligned, MaxChunk: rangedChunking.Max}
	m, err := merge.MergeRows(context.Background(), table.New(spec), srcs[0], srcs[1], srcs[2], o)
	if err != nil {
		t.Fatal(err)
	}
	b, ou, th := srcs[0].memSource, srcs[1].memSource, srcs[2].memSource
	plain, err := merge.MergeRows(context.Background(), table.New(spec), b, ou, th, o)
	if err != nil {
		t.Fatal(err)
	}
	_, want := rowsOf(t, spec, assemble(t, plain, b, ou, th)) // (first: a fault without ranges too is not theirs)
	_, got := rowsOf(t, spec, assemble(t, m, srcs[0].memSource, srcs[1].memSource, srcs[2].memSource))
	if len(got) != len(want) {
		t.Fatalf("with key ranges %d rows, without %d", len(got), len(want))
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || !slices.Equal(g, w) {
			t.Fatalf("key %s: with key ranges %q, without %q", k, g, w)
		}
	}
	var ck, pk []string
	for _, c := range m.Conflicts {
		ck = append(ck, c.Key)
	}
	for _, c := range plain.Conflicts {
		pk = append(pk, c.Key)
	}
	if !slices.Equal(ck, pk) {
		t.Fatalf("conflicts with key ranges %q, without %q", ck, pk)
	}
	return m, got
}

// TestMergeRowsRanged: disjoint random edits on a table sorted by its key
// merge, with key ranges, to both change sets applied, row for row, as
// without them; most of theirs' changed runs are taken unread. With some
// ranges not known, the same.
func TestMergeRowsRanged(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 13))
	unread := 0
	for round := 0; round < 12; round++ {
		base := genRows(r, 1500+r.IntN(1500))
		taken := map[string]bool{}
		n := []int{3, 10, 40}[round%3]
		eo, oo := randEdits(r, base, n, "o", taken, round%2 == 0)
		et, ot := randEdits(r, base, n, "t", taken, round%4 < 2)
		ours, theirs := applyEdits(base, eo, oo), applyEdits(base, et, ot)
		var hide func(int) bool
		if round%3 == 2 {
			hide = func(i int) bool { return i%7 == 3 }
		}
		m, got := rangedMerge(t, base, ours, theirs, hide)
		if len(m.Conflicts) != 0 {
			t.Fatalf("round %d: %d conflicts on disjoint edits", round, len(m.Conflicts))
		}
		want, _ := bothApplied(base, eo, oo, et, ot)
		if len(got) != len(want) {
			t.Fatalf("round %d: %d rows, want %d", round, len(got), len(want))
		}
		for k, w := range want {
			if g, ok := got[k]; !ok || !sameVals(g, w, table.CSV) {
				t.Fatalf("round %d: key %s: got %q, want %q", round, k, g, w)
			}
		}
		unread += m.Unread
	}
	if unread == 0 {
		t.Fatal("no run of theirs taken unread in 12 merges")
	}
}

// TestMergeRowsRangedSameKey: the two sides touch the same key in places
// far apart (a row theirs moved, a key both added): key ranges find it,
// as the full diffs do.
func TestMergeRowsRangedSameKey(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	base := genRows(r, 3000)
	for _, row := range base.rows {
		for i, v := range row {
			if len(v) > 100 {
				// No row longer than a chunk: a chunk cut inside a row,
				// and the next, have no known range, and a merge then
				// reads every run.
				row[i] = "short"
			}
		}
	}
	row := func(k, v string) []string { return []string{k, "x", v, "y"} }
	at := func(g *genTable, i int, rows ...[]string) *genTable {
		out := g.clone()
		out.rows = slices.Insert(out.rows, i, rows...)
		return out
	}
	del := func(g *genTable, k string) *genTable {
		out := g.clone()
		out.rows = slices.DeleteFunc(out.rows, func(r []string) bool { return r[0] == k })
		return out
	}
	set := func(g *genTable, k, v string) *genTable {
		out := g.clone()
		for _, r := range out.rows {
			if r[0] == k {
				r[2] = v
			}
		}
		return out
	}
	moved := base.rows[100][0]
	cases := []struct {
		name         string
		ours, theirs *genTable
		conflicts    []string
	}{
		{"theirs moves a row ours changed", set(base, moved, "ours"), at(del(base, moved), 2500, row(moved, "theirs")), []string{moved}},
		{"theirs moves a row, ours changes another", set(base, base.rows[2000][0], "ours"), at(del(base, moved), 2500, row(moved, "theirs")), nil},
		{"both add a key, differently", at(base, 2800, row("k0000100x", "ours")), at(base, 200, row("k0000100x", "theirs")), []string{"k0000100x"}},
		{"both add a key, the same", at(set(base, base.rows[20][0], "o"), 2800, row("k0000100x", "same")), at(base, 200, row("k0000100x", "same")), nil},
	}
	far := base.rows[2950][0] // past the rows the cases insert among
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Theirs also changes a row far from the rest: a run to take
			// unread.
			m, _ := rangedMerge(t, base, c.ours, set(c.theirs, far, "far"), nil)
			if m.Unread == 0 {
				t.Error("no run taken unread")
			}
			var keys []string
			for _, cf := range m.Conflicts {
				keys = append(keys, cf.Key)
			}
			if !slices.Equal(keys, c.conflicts) {
				t.Fatalf("conflicts %q, want %q", keys, c.conflicts)
			}
		})
	}
}

// TestMergeRowsRangedMatchesPlain: on a sorted table, both sides make
// random edits, overlapping or not: updates, deletes, inserts of new keys
// anywhere (now and then the same key on both sides), rows moved
// elsewhere, changed or not. The merge with key ranges gives the rows and
// conflicts the merge without them gives.
func TestMergeRowsRangedMatchesPlain(t *testing.T) {
	r := rand.New(rand.NewPCG(*rangedSeed, 1))
	short := func(g *genTable) {
		for _, row := range g.rows {
			for i, v := range row {
				if len(v) > 100 {
					row[i] = "short"
				}
			}
		}
	}
	edit := func(g *genTable, n int, shared []string) *genTable {
		out := g.clone()
		for i := 0; i < n; i++ {
			switch op := r.IntN(10); {
			case op < 4: // update
				row := out.rows[r.IntN(len(out.rows))]
				row[2] = fmt.Sprint(r.IntN(1e6))
			case op < 5: // delete
				j := r.IntN(len(out.rows))
				out.rows = slices.Delete(out.rows, j, j+1)
			case op < 7: // insert a new key (or a shared one) anywhere
				k := fmt.Sprintf("k%07dn%d", r.IntN(3000), r.IntN(1e6))
				v := fmt.Sprint(r.IntN(3))
				if r.IntN(3) == 0 {
					k = shared[r.IntN(len(shared))]
				}
				if !slices.ContainsFunc(out.rows, func(row []string) bool { return row[0] == k }) {
					out.rows = slices.Insert(out.rows, r.IntN(len(out.rows)+1), []string{k, "x", v, "y"})
				}
			default: // move a row elsewhere, changed or not
				j := r.IntN(len(out.rows))
				row := out.rows[j]
				out.rows = slices.Delete(out.rows, j, j+1)
				if r.IntN(2) == 0 {
					row[2] = "424242" // (a number: JSONL writes it as one)
				}
				out.rows = slices.Insert(out.rows, r.IntN(len(out.rows)+1), row)
			}
		}
		return out
	}
	unread := 0
	for round := 0; round < *rangedRounds; round++ {
		base := genRows(r, 2000)
		short(base)
		shared := []string{"k0000500s", "k0001500s", "k0002500s"}
		ours := edit(base, 1+r.IntN(12), shared)
		theirs := edit(base, 1+r.IntN(12), shared)
		// Now and then with chunk boundaries not trusted (parsed whole),
		// or as JSONL (its values are JSON: rows compared by key).
		f := table.CSV
		if round%3 == 2 {
			f = table.JSONL
		}
		m, got := rangedMergeOpts(t, base, ours, theirs, nil, round%5 != 4, f)
		unread += m.Unread
		// Key by key: the side that changed it, the value both agree on,
		// or (a conflict) ours'.
		b, o, th := wantRows(base), wantRows(ours), wantRows(theirs)
		want := map[string][]string{}
		var conflicts []string
		for _, k := range slices.Concat(slices.Collect(maps.Keys(b)), slices.Collect(maps.Keys(o)), slices.Collect(maps.Keys(th))) {
			bv, bok := b[k]
			ov, ook := o[k]
			tv, tok := th[k]
			oChanged := ook != bok || !slices.Equal(ov, bv)
			tChanged := tok != bok || !slices.Equal(tv, bv)
			v, ok := ov, ook
			if tChanged && !oChanged {
				v, ok = tv, tok
			}
			if oChanged && tChanged && (ook != tok || !slices.Equal(ov, tv)) && !slices.Contains(conflicts, k) {
				conflicts = append(conflicts, k)
			}
			if ok {
				want[k] = v
			}
		}
		slices.Sort(conflicts)
		var gotConflicts []string
		for _, c := range m.Conflicts {
			gotConflicts = append(gotConflicts, c.Key)
		}
		if !slices.Equal(gotConflicts, conflicts) {
			for _, k := range conflicts {
				t.Logf("%s: base %q ours %q theirs %q", k, b[k], o[k], th[k])
			}
			t.Fatalf("round %d (%s): conflicts %q, want %q", round, f, gotConflicts, conflicts)
		}
		if len(got) != len(want) {
			t.Fatalf("round %d: %d rows, want %d", round, len(got), len(want))
		}
		for k, w := range want {
			if g, ok := got[k]; !ok || !sameVals(g, w, f) {
				t.Fatalf("round %d: key %s: %q, want %q", round, k, g, w)
			}
		}
	}
	if unread == 0 {
		t.Fatalf("no run taken unread in %d merges", *rangedRounds)
	}
}
