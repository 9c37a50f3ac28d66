package merge_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
	"github.com/dxdata/dx/store/chunker"
)

// streamed runs a streamed diff to its end with the given window sizes
// and returns its changes read back as rows, the events' count and
// whether one was a reset.
func streamed(t *testing.T, tb merge.Table, a, b merge.Source, o merge.DiffOptions, first, window int) (changes []merge.RowChange, stats merge.DiffStats, events int, reset bool) {
	t.Helper()
	s := merge.NewRowStream(tb, a, b, o)
	if first > 0 {
		merge.SetStreamWindows(s, first, window)
	}
	var refs []merge.ChangeRef
	done := false
	err := s.Run(context.Background(), func(e merge.StreamEvent) error {
		events++
		if done {
			t.Fatal("an event after Done")
		}
		if e.Reset {
			refs, reset = nil, true
		}
		refs = append(refs, e.Changes...)
		done, stats = e.Done, e.Stats
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !done {
		t.Fatal("no Done event")
	}
	changes, err = s.Rows(context.Background(), refs)
	if err != nil {
		t.Fatal(err)
	}
	return changes, stats, events, reset
}

// showChange is a change as text: its kind, key, rows and columns.
func showChange(c merge.RowChange) string {
	row := func(r *merge.Row) string {
		if r == nil {
			return "-"
		}
		var cells []string
		for i, col := range r.Cols {
			cells = append(cells, col+"="+r.Vals[i])
		}
		return strings.Join(cells, ";")
	}
	return fmt.Sprintf("%s %q %s | %s | %v", c.Kind, c.Key, row(c.Old), row(c.New), c.Columns)
}

// sameChanges reports how the streamed changes differ from DiffRows':
// the same changes, the added and changed rows in the new version's
// order, then the removed in the old one's.
func sameChanges(got, want []merge.RowChange) string {
	byKind := func(cs []merge.RowChange) map[merge.RowKind][]string {
		m := map[merge.RowKind][]string{}
		for _, c := range cs {
			m[c.Kind] = append(m[c.Kind], showChange(c))
		}
		return m
	}
	g, w := byKind(got), byKind(want)
	for _, k := range []merge.RowKind{merge.RowAdded, merge.RowRemoved, merge.RowChanged} {
		slices.Sort(g[k])
		slices.Sort(w[k])
		if !slices.Equal(g[k], w[k]) {
			return fmt.Sprintf("%s rows: got %d, want %d; first got %q, want %q", k, len(g[k]), len(w[k]), first(g[k]), first(w[k]))
		}
	}
	removed := false
	var lastOld, lastNew int64 = -1, -1
	for _, c := range got {
		switch {
		case c.Kind == merge.RowRemoved:
			removed = true
			if c.Old.Off <= lastOld {
				return fmt.Sprintf("removed row %q out of the old version's order", c.Key)
			}
			lastOld = c.Old.Off
		case removed:
			return "an added or changed row after a removed one"
		default:
			if c.New.Off <= lastNew {
				return fmt.Sprintf("row %q out of the new version's order", c.Key)
			}
			lastNew = c.New.Off
		}
	}
	return ""
}

func first(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return xs[0]
}

// TestRowStreamMatchesDiffRows: on generated tables with random edits, in
// every encoding, chunking and window size, the streamed diff finds what
// DiffRows finds, and reads no more.
func TestRowStreamMatchesDiffRows(t *testing.T) {
	encs := []encoding{
		{name: "csv", format: table.CSV},
		{name: "csv-crlf-bom", format: table.CSV, crlf: true, bom: true},
		{name: "csv-no-final-eol", format: table.CSV, noEOL: true},
		{name: "jsonl", format: table.JSONL},
		{name: "jsonl-crlf-no-eol", format: table.JSONL, crlf: true, noEOL: true},
	}
	opts := []chunker.Options{
		{Min: 256, Avg: 1024, Max: 4096},
		{Min: 256, Avg: 512, Max: 1024},
	}
	windows := [][2]int{{0, 0}, {1 << 10, 8 << 10}, {64, 256}}
	ctx := context.Background()
	for _, e := range encs {
		for oi, co := range opts {
			for _, aligned := range []bool{true, false} {
				name := fmt.Sprintf("%s/chunks%d/aligned=%v", e.name, oi, aligned)
				t.Run(name, func(t *testing.T) {
					r := rand.New(rand.NewPCG(uint64(oi)+7, uint64(len(e.name))))
					next := 0
					for round := range 8 {
						base := genRows(r, 200+r.IntN(800))
						nEdits := []int{1, 3, 20, 200}[round%4]
						after, _ := edit(r, base, nEdits, &next)
						if round == 7 { // rows moved far: matched across windows and runs
							after.rows[0], after.rows[len(after.rows)-1] = after.rows[len(after.rows)-1], after.rows[0]
						}
						co.Mode = chunker.CSV
						if e.format == table.JSONL {
							co.Mode = chunker.Lines
						}
						a, b := chunked(t, base.encode(e), co), chunked(t, after.encode(e), co)
						tb := table.New(table.Spec{Format: e.format, Key: []string{"id"}})
						o := merge.DiffOptions{Aligned: aligned, MaxChunk: co.Max}
						want, err := merge.DiffRows(ctx, tb, a, b, o)
						if err != nil {
							t.Fatalf("round %d: %v", round, err)
						}
						w := windows[round%len(windows)]
						got, stats, _, _ := streamed(t, tb, a, b, o, w[0], w[1])
						if msg := sameChanges(got, want.Changes); msg != "" {
							t.Fatalf("round %d (%d edits, windows %v): %s", round, nEdits, w, msg)
						}
						if w[0] == 0 && stats.BytesParsed > want.Stats.BytesParsed {
							t.Errorf("round %d: the stream parsed %d bytes, DiffRows %d", round, stats.BytesParsed, want.Stats.BytesParsed)
						}
					}
				})
			}
		}
	}
}

// TestRowStreamEdgeCases: keyless tables (rows as a multiset), a header
// whose columns move, tables emptied or created, and chunks cut inside
// quoted rows (the stream starts again, wider, with a reset).
func TestRowStreamEdgeCases(t *testing.T) {
	small := chunker.Options{Min: 64, Avg: 128, Max: 256, Mode: chunker.CSV}
	cases := []struct {
		name     string
		key      []string
		old, new string
		co       chunker.Options
	}{
		{"keyless", nil, "a,b\n1,x\n1,x\n2,y\n3,z\n", "a,b\n1,x\n2,y\n2,y\n4,w\n", small},
		{"columns moved", []string{"id"}, "id,a,b\n1,x,y\n2,p,q\n", "id,b,a\n1,y,x\n2,q,z\n", small},
		{"emptied", []string{"id"}, "id,a\n1,x\n2,y\n", "id,a\n", small},
		{"created", []string{"id"}, "", "id,a\n1,x\n2,y\n", small},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb := table.New(table.Spec{Format: table.CSV, Key: c.key})
			a, b := chunked(t, []byte(c.old), c.co), chunked(t, []byte(c.new), c.co)
			o := merge.DiffOptions{Aligned: true, MaxChunk: c.co.Max}
			want, err := merge.DiffRows(context.Background(), tb, a, b, o)
			if err != nil {
				t.Fatal(err)
			}
			got, _, _, _ := streamed(t, tb, a, b, o, 64, 256)
			if msg := sameChanges(got, want.Changes); msg != "" {
				t.Fatal(msg)
			}
			if len(want.Changes) == 0 {
				t.Fatal("the case changes no rows")
			}
		})
	}
	t.Run("run ends inside a row", func(t *testing.T) {
		// Chunk 0 differs and ends inside a quoted value that chunk 1,
		// the same on both sides, ends: the stream meets it, widens the
		// run over chunk 1 and starts again.
		src := func(chunks ...string) *memSource {
			s := &memSource{}
			for _, c := range chunks {
				s.chunks = append(s.chunks, []byte(c))
				s.refs = append(s.refs, dag.ChunkRef{ID: dag.Hash(dag.KindChunk, []byte(c)), Len: uint32(len(c))})
			}
			return s
		}
		a := src("id,a\n1,x\n2,\"multi", "\nline\"\n3,y\n")
		b := src("id,a\n1,xx\n2,\"multi", "\nline\"\n3,y\n")
		tb := table.New(table.Spec{Format: table.CSV, Key: []string{"id"}})
		got, _, _, reset := streamed(t, tb, a, b, merge.DiffOptions{Aligned: true, MaxChunk: 1 << 20}, 0, 0)
		if len(got) != 1 || showChange(got[0]) != `changed "1" id=1;a=x | id=1;a=xx | [a]` {
			t.Fatalf("changes %v", got)
		}
		if !reset {
			t.Error("no reset")
		}
	})
}

// TestRowStreamErrors: what DiffRows refuses, the stream refuses too.
func TestRowStreamErrors(t *testing.T) {
	co := chunker.Options{Min: 64, Avg: 128, Max: 256, Mode: chunker.CSV}
	keyed := table.New(table.Spec{Format: table.CSV, Key: []string{"id"}})
	for _, tc := range []struct{ name, old, new, want string }{
		{"duplicate old key", "id,a\n1,x\n1,y\n", "id,a\n1,z\n", `old version: duplicate key "1"`},
		{"duplicate new key of an old row", "id,a\n2,x\n", "id,a\n2,y\n2,z\n", `new version: duplicate key "2"`},
		{"wrong field count", "id,a\n1,x\n", "id,a\n1,x\n2,y,z\n", "new version: line 3: wrong number of fields"},
		{"open quote runs to the end", "id,a\n1,x\n", "id,a\n\"1,x\n2,y\n", "new version: line 2: wrong number of fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := merge.NewRowStream(keyed, chunked(t, []byte(tc.old), co), chunked(t, []byte(tc.new), co), merge.DiffOptions{Aligned: true, MaxChunk: co.Max})
			err := s.Run(context.Background(), func(merge.StreamEvent) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestRowStreamFirstRowsEarly: a diff changing every row of a large table
// emits its first changes after reading a small part of the new version,
// in many events, and holds offsets, not rows. Windows of one chunk make
// the bound exact whatever the scheduling: by the first event the second
// pass has read at most the windows that fill the pipeline's slots
// (twice the workers), the one released for it and the one waiting.
func TestRowStreamFirstRowsEarly(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	base := genRows(r, 40000)
	after := base.clone()
	for _, row := range after.rows {
		row[2] += "0"
	}
	e := encoding{format: table.CSV}
	co := chunker.DefaultOptions().ForMode(chunker.CSV)
	a, b := chunked(t, base.encode(e), co), chunked(t, after.encode(e), co)
	tb := table.New(table.Spec{Format: table.CSV, Key: []string{"id"}})
	s := merge.NewRowStream(tb, a, b, merge.DiffOptions{Aligned: true, MaxChunk: co.Max})
	merge.SetStreamWindows(s, 1, 1)
	var firstRead int64 = -1
	events, n := 0, 0
	err := s.Run(context.Background(), func(ev merge.StreamEvent) error {
		events++
		n += len(ev.Changes)
		if firstRead < 0 && len(ev.Changes) > 0 {
			firstRead = b.reads.Load()
			rows, err := s.Rows(context.Background(), ev.Changes[:1])
			if err != nil {
				return err
			}
			if rows[0].Kind != merge.RowChanged || rows[0].Key != after.rows[0][0] || !slices.Equal(rows[0].Columns, []string{"b"}) {
				t.Errorf("first change %s, want the first row's b changed", showChange(rows[0]))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(after.rows) {
		t.Fatalf("%d changes, want %d", n, len(after.rows))
	}
	// The first pass reads every chunk of both; the second had read a
	// few of the new version's again by the first changes.
	if extra := firstRead - int64(len(b.refs)); extra > int64(2*runtime.GOMAXPROCS(0)+2) {
		t.Errorf("the first changes came after %d reads of the new version's %d chunks in the second pass", extra, len(b.refs))
	}
	if events < 5 {
		t.Errorf("%d events for %d changes", events, n)
	}
}
