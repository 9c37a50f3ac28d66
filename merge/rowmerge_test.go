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
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
	"github.com/dxdata/dx/store/chunker"
)

// assemble writes the merged file out of its pieces (srcs: base, ours,
// theirs), checking that each unchanged chunk is where its piece says in
// the file of the side built on.
func assemble(t *testing.T, m *merge.RowMerge, srcs ...*memSource) []byte {
	t.Helper()
	byID := map[dag.ID][]byte{}
	for _, s := range srcs {
		for i, r := range s.refs {
			byID[r.ID] = s.chunks[i]
		}
	}
	on, other := srcs[1], srcs[2]
	if m.OnTheirs {
		on, other = other, on
	}
	onFile, otherFile := bytes.Join(on.chunks, nil), bytes.Join(other.chunks, nil)
	var out []byte
	for _, p := range m.Pieces {
		if p.Chunk != nil {
			b, ok := byID[p.Chunk.ID]
			if !ok {
				t.Fatalf("piece names an unknown chunk")
			}
			file := onFile
			if p.Other {
				file = otherFile
			}
			if p.Off+int64(len(b)) > int64(len(file)) || !bytes.Equal(file[p.Off:p.Off+int64(len(b))], b) {
				t.Fatalf("a piece's chunk is not at its offset %d in its side (other: %v)", p.Off, p.Other)
			}
			out = append(out, b...)
		} else {
			out = append(out, p.Data...)
		}
	}
	return out
}

// rowsOf parses a whole file into key → values.
func rowsOf(t *testing.T, spec table.Spec, data []byte) ([]string, map[string][]string) {
	t.Helper()
	r := table.New(spec)
	h, n, err := r.Header(data, true)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	err = r.Parse(h, data[n:], true, func(row merge.Row) error {
		if _, dup := out[row.Key]; dup {
			return fmt.Errorf("duplicate key %q in the result", row.Key)
		}
		m := make([]string, 0, len(row.Cols))
		for i, c := range row.Cols {
			m = append(m, c+"="+row.Vals[i])
		}
		out[row.Key] = m
		return nil
	})
	if err != nil {
		t.Fatalf("result does not parse: %v", err)
	}
	return h.Cols, out
}

// editSet is a change set on keys: new values (nil: removed).
type editSet map[string][]string

func applyEdits(g *genTable, es editSet, order []string) *genTable {
	out := &genTable{cols: g.cols}
	for _, r := range g.rows {
		v, ok := es[r[0]]
		switch {
		case !ok:
			out.rows = append(out.rows, slices.Clone(r))
		case v != nil:
			out.rows = append(out.rows, slices.Clone(v))
		}
	}
	for _, k := range order { // inserts, in order
		if v := es[k]; v != nil && !slices.ContainsFunc(g.rows, func(r []string) bool { return r[0] == k }) {
			out.rows = append(out.rows, slices.Clone(v))
		}
	}
	return out
}

// randEdits makes n edits on keys picked from pool (updates, deletes) and
// new keys with the given prefix (inserts, unless !inserts).
func randEdits(r *rand.Rand, g *genTable, n int, prefix string, taken map[string]bool, inserts bool) (editSet, []string) {
	es := editSet{}
	var order []string
	for len(es) < n {
		kind := r.IntN(3)
		if !inserts {
			kind = 1 + r.IntN(2)
		}
		switch kind {
		case 0:
			k := fmt.Sprintf("%s%05d", prefix, len(order))
			es[k] = []string{k, randValue(r), fmt.Sprint(r.IntN(1000)), randValue(r)}
			order = append(order, k)
		default:
			row := g.rows[r.IntN(len(g.rows))]
			if taken[row[0]] {
				continue
			}
			taken[row[0]] = true
			if r.IntN(2) == 0 {
				es[row[0]] = nil
			} else {
				v := slices.Clone(row)
				v[2] = fmt.Sprint(1000 + r.IntN(1000))
				es[row[0]] = v
			}
		}
	}
	return es, order
}

// bothApplied returns the rows of base with two disjoint edit sets
// applied, and the union of the sets.
func bothApplied(base *genTable, eo editSet, oo []string, et editSet, ot []string) (map[string][]string, editSet) {
	both := editSet{}
	for k, v := range eo {
		both[k] = v
	}
	for k, v := range et {
		both[k] = v
	}
	return wantRows(applyEdits(base, both, append(oo, ot...))), both
}

func wantRows(g *genTable) map[string][]string {
	out := map[string][]string{}
	for _, r := range g.rows {
		m := make([]string, len(r))
		for i, c := range g.cols {
			m[i] = c + "=" + r[i]
		}
		out[r[0]] = m
	}
	return out
}

func mergeOf(t *testing.T, e encoding, co chunker.Options, base, ours, theirs *genTable, aligned bool) (*merge.RowMerge, []byte) {
	t.Helper()
	b, o, th := chunked(t, base.encode(e), co), chunked(t, ours.encode(e), co), chunked(t, theirs.encode(e), co)
	spec := table.Spec{Format: e.format, Key: []string{"id"}}
	m, err := merge.MergeRows(context.Background(), table.New(spec), b, o, th, merge.DiffOptions{Aligned: aligned, MaxChunk: co.Max})
	if err != nil {
		t.Fatal(err)
	}
	return m, assemble(t, m, b, o, th)
}

// TestMergeRowsProperty: disjoint random edits on two branches merge to
// both change sets applied, row for row and key for key.
func TestMergeRowsProperty(t *testing.T) {
	encs := []encoding{
		{name: "csv", format: table.CSV},
		{name: "csv-crlf-bom-noeol", format: table.CSV, crlf: true, bom: true, noEOL: true},
		{name: "jsonl", format: table.JSONL},
	}
	for _, e := range encs {
		for _, aligned := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/aligned=%v", e.name, aligned), func(t *testing.T) {
				r := rand.New(rand.NewPCG(21, uint64(len(e.name))))
				co := chunker.Options{Min: 256, Avg: 1024, Max: 4096, Mode: chunker.CSV}
				if e.format == table.JSONL {
					co.Mode = chunker.Lines
				}
				takes := 0
				for round := 0; round < 10; round++ {
					base := genRows(r, 300+r.IntN(700))
					taken := map[string]bool{}
					n := []int{1, 5, 40}[round%3]
					eo, oo := randEdits(r, base, n, "o", taken, true)
					// Theirs only updates and deletes in half the rounds:
					// ours is then diffed only where theirs changed.
					et, ot := randEdits(r, base, n, "t", taken, round%2 == 1)
					ours, theirs := applyEdits(base, eo, oo), applyEdits(base, et, ot)
					m, out := mergeOf(t, e, co, base, ours, theirs, aligned)
					if len(m.Conflicts) != 0 {
						t.Fatalf("round %d: %d conflicts on disjoint edits", round, len(m.Conflicts))
					}
					want, both := bothApplied(base, eo, oo, et, ot)
					_, got := rowsOf(t, table.Spec{Format: e.format, Key: []string{"id"}}, out)
					if len(got) != len(want) {
						t.Fatalf("round %d: %d rows, want %d", round, len(got), len(want))
					}
					for k, w := range want {
						g, ok := got[k]
						if !ok || !sameVals(g, w, e.format) {
							t.Fatalf("round %d: key %s: got %q, want %q", round, k, g, w)
						}
					}
					if aligned {
						b, o, th := chunked(t, base.encode(e), co), chunked(t, ours.encode(e), co), chunked(t, theirs.encode(e), co)
						tab := table.New(table.Spec{Format: e.format, Key: []string{"id"}})
						opts := merge.DiffOptions{Aligned: true, MaxChunk: co.Max}
						// Without taking runs whole: the rows written are
						// found where the diffs say, and only they parsed.
						mr, err := merge.MergeRowsForTest(context.Background(), tab, b, o, th, opts, 0, true)
						if err != nil {
							t.Fatal(err)
						}
						checkLocated(t, e, co, base, ours, theirs, mr)
						outR := assemble(t, mr, b, o, th)
						if got := wantRows(applyEdits(base, both, append(oo, ot...))); !sameRows(t, e, outR, got) {
							t.Fatalf("round %d: without taking runs whole, the merge differs", round)
						}
						// Rows not where they were looked for are found by
						// parsing: the same file.
						m2, err := merge.MergeRowsForTest(context.Background(), tab, b, o, th, opts, 1, true)
						if err != nil {
							t.Fatal(err)
						}
						if got := assemble(t, m2, b, o, th); !bytes.Equal(got, outR) {
							t.Fatalf("round %d: with rows misplaced, the merge differs", round)
						}
						if mr.Changed+mr.Removed > 0 && m2.Stats.BytesParsed <= mr.Stats.BytesParsed {
							t.Errorf("round %d: with rows misplaced, the merge parsed %d bytes, no more than the %d of the merge that found them", round, m2.Stats.BytesParsed, mr.Stats.BytesParsed)
						}
						takes += m.Taken
					}
					// The built-on side keeps its unchanged chunks.
					if aligned && n == 1 && len(m.Pieces) > 1 {
						kept := 0
						for _, p := range m.Pieces {
							if p.Chunk != nil {
								kept++
							}
						}
						if kept == 0 {
							t.Errorf("round %d: no chunk of ours kept for one edit", round)
						}
					}
				}
				// Disjoint edits of a few rows leave runs of theirs' chunks
				// that go into the result whole.
				if aligned && takes == 0 {
					t.Errorf("no run of theirs taken whole in 10 merges")
				}
			})
		}
	}
}

// sameRows reports whether a merged file holds exactly the rows want.
func sameRows(t *testing.T, e encoding, out []byte, want map[string][]string) bool {
	t.Helper()
	_, got := rowsOf(t, table.Spec{Format: e.format, Key: []string{"id"}}, out)
	if len(got) != len(want) {
		return false
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || !sameVals(g, w, e.format) {
			return false
		}
	}
	return true
}

// checkLocated: the rows theirs changed or removed are found in ours
// where the diffs say they are, so that merging parses nothing but those
// rows beyond what the two row diffs parsed.
func checkLocated(t *testing.T, e encoding, co chunker.Options, base, ours, theirs *genTable, m *merge.RowMerge) {
	t.Helper()
	b, o, th := chunked(t, base.encode(e), co), chunked(t, ours.encode(e), co), chunked(t, theirs.encode(e), co)
	tab := table.New(table.Spec{Format: e.format, Key: []string{"id"}})
	opts := merge.DiffOptions{Aligned: true, MaxChunk: co.Max}
	oursDiff, err := merge.DiffRows(context.Background(), tab, b, o, opts)
	if err != nil {
		t.Fatal(err)
	}
	theirsDiff, err := merge.DiffRows(context.Background(), tab, b, th, opts)
	if err != nil {
		t.Fatal(err)
	}
	// The bytes of those rows in ours (where a last row without a line
	// end got one).
	data := ours.encode(e)
	h, n, err := tab.Header(data, true)
	if err != nil {
		t.Fatal(err)
	}
	size := map[string]int64{}
	if err := tab.Parse(h, data[n:], true, func(r merge.Row) error { size[r.Key] = r.End - r.Off; return nil }); err != nil {
		t.Fatal(err)
	}
	var rows int64
	for _, c := range theirsDiff.Changes {
		if c.Old != nil {
			rows += size[c.Key]
		}
	}
	if got, want := m.Stats.BytesParsed-oursDiff.Stats.BytesParsed-theirsDiff.Stats.BytesParsed, rows; got != want {
		t.Errorf("the merge parsed %d bytes beyond the diffs, want %d (the rows theirs changed or removed, as ours holds them: found without parsing their chunks)", got, want)
	}
}

// sameVals compares "col=value" lists; JSONL values are compared as the
// generator wrote them (the nested field is left out).
func sameVals(got, want []string, f table.Format) bool {
	if f != table.JSONL {
		return slices.Equal(got, want)
	}
	m := map[string]string{}
	for _, kv := range got {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	for _, kv := range want {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "b":
			continue // written inside "nested"
		case "id", "a", "note":
			if m[k] != fmt.Sprintf("%q", v) && m[k] != jsonQuote(v) {
				return false
			}
		}
	}
	return true
}

func jsonQuote(s string) string {
	var b bytes.Buffer
	b.WriteString(`"`)
	b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s))
	b.WriteString(`"`)
	return b.String()
}

// TestMergeRowsConflicts: overlapping edits with different values conflict,
// exactly on those keys; identical edits do not.
func TestMergeRowsConflicts(t *testing.T) {
	for _, f := range []table.Format{table.CSV, table.JSONL} {
		t.Run(string(f), func(t *testing.T) { testMergeRowsConflicts(t, f) })
	}
}

func testMergeRowsConflicts(t *testing.T, f table.Format) {
	r := rand.New(rand.NewPCG(31, 1))
	e := encoding{format: f}
	co := chunker.Options{Min: 256, Avg: 1024, Max: 4096, Mode: chunker.CSV}
	if f == table.JSONL {
		co.Mode = chunker.Lines
	}
	base := genRows(r, 800)
	ours, theirs := base.clone(), base.clone()
	wantConflicts := []string{}
	for i, row := range base.rows {
		switch {
		case i%97 == 5: // both change the same column differently
			ours.rows[i][2], theirs.rows[i][2] = "111", "222"
			wantConflicts = append(wantConflicts, row[0])
		case i%97 == 9: // the same change on both sides
			ours.rows[i][1], theirs.rows[i][1] = "same", "same"
		case i%97 == 13: // ours changes, theirs removes
			ours.rows[i][1] = "ours"
			theirs.rows[i] = nil
			wantConflicts = append(wantConflicts, row[0])
		case i%97 == 20: // both remove
			ours.rows[i], theirs.rows[i] = nil, nil
		case i%97 == 30: // both change, different columns
			ours.rows[i][1], theirs.rows[i][2] = "ours", "333"
			wantConflicts = append(wantConflicts, row[0])
		}
	}
	compact := func(g *genTable) {
		g.rows = slices.DeleteFunc(g.rows, func(r []string) bool { return r == nil })
	}
	compact(ours)
	compact(theirs)
	// Both add the same new key: once with equal rows, once differently.
	ours.rows = append(ours.rows, []string{"n1", "x", "1", "y"}, []string{"n2", "x", "1", "y"})
	theirs.rows = append(theirs.rows, []string{"n1", "x", "1", "y"}, []string{"n2", "x", "2", "y"})
	wantConflicts = append(wantConflicts, "n2")
	m, out := mergeOf(t, e, co, base, ours, theirs, true)
	var got []string
	for _, c := range m.Conflicts {
		got = append(got, c.Key)
	}
	sort.Strings(got)
	sort.Strings(wantConflicts)
	if !slices.Equal(got, wantConflicts) {
		t.Fatalf("conflicts %v, want %v", got, wantConflicts)
	}
	for _, c := range m.Conflicts {
		if c.Key == "n2" && (c.Base != nil || c.Ours == nil || c.Theirs == nil) {
			t.Errorf("add/add conflict: %+v", c)
		}
	}
	// The result keeps ours for conflicting keys and has no duplicates.
	_, rows := rowsOf(t, table.Spec{Format: f, Key: []string{"id"}}, out)
	if _, ok := rows["n1"]; !ok {
		t.Error("the key both sides added alike is missing")
	}
}

// TestMergeRowsAddedColumn: a column added on one side merges with row
// edits from the other side that did not touch the header.
func TestMergeRowsAddedColumn(t *testing.T) {
	base := "id,a\n1,x\n2,y\n3,z\n"
	ours := "id,a,extra\n1,x,e1\n2,y,e2\n3,z,e3\n"
	theirs := "id,a\n1,x\n2,CHANGED\n4,new\n"
	co := chunker.Options{Min: 64, Avg: 128, Max: 256, Mode: chunker.CSV}
	spec := table.Spec{Format: table.CSV, Key: []string{"id"}}
	for _, swap := range []bool{false, true} {
		o, th := ours, theirs
		if swap {
			o, th = theirs, ours
		}
		b, oursSrc, theirsSrc := chunked(t, []byte(base), co), chunked(t, []byte(o), co), chunked(t, []byte(th), co)
		m, err := merge.MergeRows(context.Background(), table.New(spec), b, oursSrc, theirsSrc, merge.DiffOptions{Aligned: true, MaxChunk: co.Max})
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Conflicts) != 0 {
			t.Fatalf("swap=%v: conflicts %+v", swap, m.Conflicts)
		}
		out := assemble(t, m, b, oursSrc, theirsSrc)
		want := "id,a,extra\n1,x,e1\n2,CHANGED,e2\n4,new,\n"
		if string(out) != want {
			t.Fatalf("swap=%v: got\n%s\nwant\n%s", swap, out, want)
		}
	}
	// Both sides changing the header differently cannot merge.
	b, oursSrc, theirsSrc := chunked(t, []byte(base), co), chunked(t, []byte(ours), co), chunked(t, []byte("id,a,other\n1,x,o\n"), co)
	if _, err := merge.MergeRows(context.Background(), table.New(spec), b, oursSrc, theirsSrc, merge.DiffOptions{Aligned: true, MaxChunk: co.Max}); err != merge.ErrHeaderConflict {
		t.Fatalf("header conflict: %v", err)
	}
}

// TestMergeRowsEdgeTables: both sides added the table (no base); one side
// emptied it; an empty base.
func TestMergeRowsEdgeTables(t *testing.T) {
	co := chunker.Options{Min: 64, Avg: 128, Max: 256, Mode: chunker.CSV}
	spec := table.Spec{Format: table.CSV, Key: []string{"id"}}
	tests := []struct {
		name               string
		base, ours, theirs string
		want               string
		conflicts          []string
	}{
		{"add/add alike rows", "", "id,v\n1,a\n", "id,v\n1,a\n2,b\n", "id,v\n1,a\n2,b\n", nil},
		{"add/add different", "", "id,v\n1,a\n", "id,v\n1,b\n", "id,v\n1,a\n", []string{"1"}},
		{"header-only base", "id,v\n", "id,v\n1,a\n", "id,v\n2,b\n", "id,v\n1,a\n2,b\n", nil},
		{"ours emptied, theirs untouched rows", "id,v\n1,a\n2,b\n", "id,v\n", "id,v\n1,a\n2,b\n3,c\n", "id,v\n3,c\n", nil},
		{"crlf kept", "id,v\r\n1,a\r\n", "id,v\r\n1,a\r\n2,b\r\n", "id,v\r\n1,A\r\n", "id,v\r\n1,A\r\n2,b\r\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, o, th := chunked(t, []byte(tc.base), co), chunked(t, []byte(tc.ours), co), chunked(t, []byte(tc.theirs), co)
			m, err := merge.MergeRows(context.Background(), table.New(spec), b, o, th, merge.DiffOptions{Aligned: true, MaxChunk: co.Max})
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, c := range m.Conflicts {
				keys = append(keys, c.Key)
			}
			if !slices.Equal(keys, tc.conflicts) {
				t.Fatalf("conflicts %v, want %v", keys, tc.conflicts)
			}
			if got := string(assemble(t, m, b, o, th)); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestMergeRowsMovedRow: ours moves a row, unchanged, to the end; theirs
// changes it. No conflict: the row ends where ours put it, with theirs'
// values (the diff of ours only where theirs changed would see the row
// removed, so ours is diffed in full).
func TestMergeRowsMovedRow(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	base := genRows(r, 3000)
	ours := base.clone()
	k := 1500
	moved := ours.rows[k]
	ours.rows = append(append(ours.rows[:k:k], ours.rows[k+1:]...), moved)
	theirs := base.clone()
	theirs.rows[k] = slices.Clone(theirs.rows[k])
	theirs.rows[k][2] = "changed"
	e := encoding{name: "csv", format: table.CSV}
	co := chunker.Options{Min: 256, Avg: 1024, Max: 4096, Mode: chunker.CSV}
	m, out := mergeOf(t, e, co, base, ours, theirs, true)
	if len(m.Conflicts) != 0 || m.Changed != 1 {
		t.Fatalf("conflicts %v, %d rows changed; want none and 1", m.Conflicts, m.Changed)
	}
	want := ours.clone()
	want.rows[len(want.rows)-1] = theirs.rows[k]
	if !sameRows(t, e, out, wantRows(want)) {
		t.Fatalf("merged rows differ from ours with theirs' change")
	}
	tab := table.New(table.Spec{Format: table.CSV, Key: []string{"id"}})
	h, n, err := tab.Header(out, true)
	if err != nil {
		t.Fatal(err)
	}
	var last string
	if err := tab.Parse(h, out[n:], true, func(r merge.Row) error { last = r.Key; return nil }); err != nil {
		t.Fatal(err)
	}
	if last != moved[0] {
		t.Fatalf("the last row is %q, want the moved row %q", last, moved[0])
	}
}

// TestMergeRowsAddedAfterOpenQuote: ours ends inside a quoted field (the
// reader ends it at the end of the file) and theirs adds rows: the added
// rows are rows of the merge, not text of that field, and the field keeps
// its value; whether runs are taken whole, rows are located or parsed.
func TestMergeRowsAddedAfterOpenQuote(t *testing.T) {
	ctx := context.Background()
	spec := table.Spec{Format: table.CSV, Key: []string{"id"}}
	tab := table.New(spec)
	base := byHand([][]byte{[]byte("id,v\n1,a\n2,b\n")})
	ours := byHand([][]byte{[]byte("id,v\n1,A\n2,\"open\n")})
	theirs := byHand([][]byte{[]byte("id,v\n1,a\n2,b\n3,c\n")})
	want := map[string][]string{"1": {"id=1", "v=A"}, "2": {"id=2", "v=open\n"}, "3": {"id=3", "v=c"}}
	for _, aligned := range []bool{true, false} {
		for misplace := range int64(2) {
			m, err := merge.MergeRowsForTest(ctx, tab, base, ours, theirs, merge.DiffOptions{Aligned: aligned}, misplace, false)
			if err != nil {
				t.Fatal(err)
			}
			if _, got := rowsOf(t, spec, assemble(t, m, base, ours, theirs)); !maps.EqualFunc(got, want, slices.Equal) {
				t.Fatalf("aligned %v, misplaced %d: rows %q, want %q", aligned, misplace, got, want)
			}
		}
	}
}
