package merge_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
	"github.com/dxdata/dx/store/chunker"
)

// memSource is a file chunked in memory by the real chunker.
type memSource struct {
	chunks [][]byte
	refs   []dag.ChunkRef
	reads  atomic.Int64 // AppendChunk is called concurrently
}

func chunked(t testing.TB, data []byte, o chunker.Options) *memSource {
	t.Helper()
	c, err := chunker.New(bytes.NewReader(data), o)
	if err != nil {
		t.Fatal(err)
	}
	s := &memSource{}
	for {
		b, err := c.Next(nil)
		if errors.Is(err, io.EOF) {
			return s
		}
		if err != nil {
			t.Fatal(err)
		}
		s.chunks = append(s.chunks, b)
		s.refs = append(s.refs, dag.ChunkRef{ID: dag.Hash(dag.KindChunk, b), Len: uint32(len(b))})
	}
}

func (s *memSource) Chunks() []dag.ChunkRef { return s.refs }
func (s *memSource) AppendChunk(_ context.Context, i int, dst []byte) ([]byte, error) {
	s.reads.Add(1)
	return append(dst, s.chunks[i]...), nil
}

// genTable is a table as ordered rows of values; row 0 is never a header.
type genTable struct {
	cols []string
	rows [][]string // rows[i][0] is the key
}

func (g *genTable) clone() *genTable {
	c := &genTable{cols: g.cols}
	for _, r := range g.rows {
		c.rows = append(c.rows, slices.Clone(r))
	}
	return c
}

func randValue(r *rand.Rand) string {
	switch r.IntN(12) {
	case 0:
		return fmt.Sprintf("multi\nline, %d", r.IntN(1e6))
	case 1:
		return fmt.Sprintf("say \"hi\" %d", r.IntN(1e6))
	case 2:
		return ""
	case 3:
		// Longer than the small Max: forces cuts inside rows.
		return strings.Repeat(fmt.Sprintf("long %d, ", r.IntN(1e6)), 100+r.IntN(200))
	}
	return fmt.Sprintf("v%d", r.IntN(1e9))
}

func genRows(r *rand.Rand, n int) *genTable {
	g := &genTable{cols: []string{"id", "a", "b", "note"}}
	for i := 0; i < n; i++ {
		g.rows = append(g.rows, []string{fmt.Sprintf("k%07d", i), randValue(r), fmt.Sprint(r.IntN(1000)), randValue(r)})
	}
	return g
}

type encoding struct {
	name   string
	format table.Format
	crlf   bool
	bom    bool
	noEOL  bool // last line without newline
}

func (g *genTable) encode(e encoding) []byte {
	var b bytes.Buffer
	if e.bom {
		b.WriteString("\uFEFF")
	}
	eol := "\n"
	if e.crlf {
		eol = "\r\n"
	}
	switch e.format {
	case table.CSV:
		for i, rec := range append([][]string{g.cols}, g.rows...) {
			for j, v := range rec {
				if j > 0 {
					b.WriteByte(',')
				}
				if strings.ContainsAny(v, ",\"\n\r") || v == "" && i > 0 && j == 3 {
					v = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
				}
				b.WriteString(v)
			}
			b.WriteString(eol)
		}
	case table.JSONL:
		for _, rec := range g.rows {
			fmt.Fprintf(&b, `{"id":%q,"a":%q,"nested":{"b":%s,"list":[1,%q]},"note":%q}`, rec[0], rec[1], rec[2], rec[3], rec[3])
			b.WriteString(eol)
		}
	}
	out := b.Bytes()
	if e.noEOL {
		out = bytes.TrimSuffix(out, []byte(eol))
	}
	return out
}

// edit applies random disjoint inserts, updates and deletes and returns
// the expected changes by key.
func edit(r *rand.Rand, g *genTable, n int, next *int) (*genTable, map[string]merge.RowKind) {
	out := g.clone()
	want := map[string]merge.RowKind{}
	for i := 0; i < n; i++ {
		switch op := r.IntN(3); {
		case op == 0 || len(out.rows) == 0: // insert anywhere
			*next++
			row := []string{fmt.Sprintf("new%07d", *next), randValue(r), fmt.Sprint(r.IntN(1000)), randValue(r)}
			at := r.IntN(len(out.rows) + 1)
			out.rows = slices.Insert(out.rows, at, row)
			want[row[0]] = merge.RowAdded
		case op == 1:
			j := r.IntN(len(out.rows))
			k := out.rows[j][0]
			if _, done := want[k]; done {
				continue
			}
			out.rows[j][1] = out.rows[j][1] + "x"
			want[k] = merge.RowChanged
		default:
			j := r.IntN(len(out.rows))
			k := out.rows[j][0]
			if _, done := want[k]; done {
				continue
			}
			out.rows = slices.Delete(out.rows, j, j+1)
			if want[k] == merge.RowAdded {
				delete(want, k)
			} else {
				want[k] = merge.RowRemoved
			}
		}
	}
	return out, want
}

func got(t *testing.T, d *merge.RowDiff) map[string]merge.RowKind {
	t.Helper()
	m := map[string]merge.RowKind{}
	for _, c := range d.Changes {
		if _, dup := m[c.Key]; dup {
			t.Fatalf("key %q reported twice", c.Key)
		}
		m[c.Key] = c.Kind
		if c.Kind == merge.RowChanged && len(c.Columns) == 0 {
			t.Fatalf("key %q changed without changed columns", c.Key)
		}
	}
	return m
}

func diffKinds(a, b map[string]merge.RowKind) string {
	var out []string
	for k, v := range a {
		if b[k] != v {
			out = append(out, fmt.Sprintf("%s: got %q want %q", k, v, b[k]))
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			out = append(out, fmt.Sprintf("%s: missing (want %q)", k, v))
		}
	}
	sort.Strings(out)
	if len(out) > 10 {
		out = append(out[:10], "…")
	}
	return strings.Join(out, "\n")
}

// TestDiffRowsProperty: on generated tables with random edits, the row
// diff reports exactly the edited keys, whatever the encoding, chunk
// sizes and whether chunk boundaries are trusted.
func TestDiffRowsProperty(t *testing.T) {
	encs := []encoding{
		{name: "csv", format: table.CSV},
		{name: "csv-crlf-bom", format: table.CSV, crlf: true, bom: true},
		{name: "csv-no-final-eol", format: table.CSV, noEOL: true},
		{name: "jsonl", format: table.JSONL},
		{name: "jsonl-crlf-no-eol", format: table.JSONL, crlf: true, noEOL: true},
	}
	opts := []chunker.Options{
		{Min: 256, Avg: 1024, Max: 4096}, // many small chunks
		{Min: 256, Avg: 512, Max: 1024},  // many forced (Max) cuts on long rows
	}
	ctx := context.Background()
	for _, e := range encs {
		for oi, co := range opts {
			for _, aligned := range []bool{true, false} {
				name := fmt.Sprintf("%s/chunks%d/aligned=%v", e.name, oi, aligned)
				t.Run(name, func(t *testing.T) {
					r := rand.New(rand.NewPCG(uint64(oi)+1, uint64(len(e.name))))
					next := 0
					for round := 0; round < 8; round++ {
						base := genRows(r, 200+r.IntN(800))
						nEdits := []int{1, 3, 20, 200}[round%4]
						after, want := edit(r, base, nEdits, &next)
						co.Mode = chunker.CSV
						if e.format == table.JSONL {
							co.Mode = chunker.Lines
						}
						a, b := chunked(t, base.encode(e), co), chunked(t, after.encode(e), co)
						spec := table.Spec{Format: e.format, Key: []string{"id"}}
						d, err := merge.DiffRows(ctx, table.New(spec), a, b, merge.DiffOptions{Aligned: aligned, MaxChunk: co.Max})
						if err != nil {
							t.Fatalf("round %d: %v", round, err)
						}
						if g := got(t, d); diffKinds(g, want) != "" {
							t.Fatalf("round %d (%d edits):\n%s", round, nEdits, diffKinds(g, want))
						}
						forced := 0
						for _, c := range a.refs {
							if int(c.Len) == co.Max {
								forced++
							}
						}
						if oi == 1 && forced == 0 {
							t.Fatalf("round %d: no chunk cut at Max; widening is not tested", round)
						}
						if aligned && nEdits == 1 && d.Stats.BytesParsed > d.Stats.BytesTotal/4 {
							t.Errorf("round %d: one edit parsed %d of %d bytes", round, d.Stats.BytesParsed, d.Stats.BytesTotal)
						}
					}
				})
			}
		}
	}
}

// TestDiffRowsKeyless matches rows by their whole content, as a multiset.
func TestDiffRowsKeyless(t *testing.T) {
	old := []byte("a,b\n1,x\n1,x\n2,y\n3,z\n")
	new := []byte("a,b\n1,x\n2,y\n2,y\n4,w\n")
	co := chunker.Options{Min: 64, Avg: 128, Max: 256, Mode: chunker.CSV}
	d, err := merge.DiffRows(context.Background(), table.New(table.Spec{Format: table.CSV}), chunked(t, old, co), chunked(t, new, co), merge.DiffOptions{Aligned: true, MaxChunk: co.Max})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, c := range d.Changes {
		r := c.New
		if r == nil {
			r = c.Old
		}
		lines = append(lines, string(c.Kind)+" "+strings.Join(r.Vals, ","))
	}
	want := []string{"removed 1,x", "removed 3,z", "added 2,y", "added 4,w"}
	if !slices.Equal(lines, want) {
		t.Fatalf("got %q, want %q", lines, want)
	}
}

// TestDiffRowsCostFollowsChange: one updated row in a large table reads a
// few chunks, not the table.
func TestDiffRowsCostFollowsChange(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	base := genRows(r, 60000)
	after := base.clone()
	after.rows[30000][1] += "!"
	e := encoding{format: table.CSV}
	co := chunker.DefaultOptions().ForMode(chunker.CSV)
	a, b := chunked(t, base.encode(e), co), chunked(t, after.encode(e), co)
	d, err := merge.DiffRows(context.Background(), table.New(table.Spec{Format: table.CSV, Key: []string{"id"}}), a, b, merge.DiffOptions{Aligned: true, MaxChunk: co.Max})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Changes) != 1 || d.Changes[0].Kind != merge.RowChanged || !slices.Equal(d.Changes[0].Columns, []string{"a"}) {
		t.Fatalf("changes: %+v", d.Changes)
	}
	// The first chunk of each side (headers) and the changed chunk of each.
	if d.Stats.ChunksRead > 4 || a.reads.Load()+b.reads.Load() > 4 {
		t.Fatalf("read %d chunks (%d of %d bytes) for one changed row", d.Stats.ChunksRead, d.Stats.BytesRead, d.Stats.BytesTotal)
	}
	if d.Stats.BytesParsed > 16<<10 { // one row (some rows are a few KiB), not a chunk
		t.Fatalf("parsed %d bytes for one changed row", d.Stats.BytesParsed)
	}
}

// TestDiffRowsPairsEqualRows: of two rows changed far apart in one chunk,
// only those two are parsed, not the rows between them; the rows between
// may even have moved.
func TestDiffRowsPairsEqualRows(t *testing.T) {
	const rowLen, n = 32, 100000
	var base bytes.Buffer
	base.WriteString("id,v\n")
	for i := range n {
		fmt.Fprintf(&base, "k%07d,%s\n", i, strings.Repeat("v", rowLen-11))
	}
	co := chunker.DefaultOptions().ForMode(chunker.CSV)
	a := chunked(t, base.Bytes(), co)
	// Rows 5 after the start and 5 before the end of a middle chunk.
	var off int64
	first, last := -1, -1
	for i, c := range a.refs {
		if i == len(a.refs)/2 {
			first, last = int(off-5)/rowLen+5, int(off-5+int64(c.Len))/rowLen-5
			break
		}
		off += int64(c.Len)
	}
	for _, moved := range []bool{false, true} {
		rows := strings.SplitAfter(base.String(), "\n")[1 : n+1]
		rows[first] = strings.Replace(rows[first], "vvv", "www", 1)
		rows[last] = strings.Replace(rows[last], "vvv", "xyz", 1)
		if moved { // two rows between them swap places
			rows[first+10], rows[first+20] = rows[first+20], rows[first+10]
		}
		b := chunked(t, []byte("id,v\n"+strings.Join(rows, "")), co)
		d, err := merge.DiffRows(context.Background(), table.New(table.Spec{Format: table.CSV, Key: []string{"id"}}), a, b, merge.DiffOptions{Aligned: true, MaxChunk: co.Max})
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Changes) != 2 || d.Changes[0].Kind != merge.RowChanged || d.Changes[1].Kind != merge.RowChanged {
			t.Fatalf("moved=%v: changes %+v, want rows %d and %d changed", moved, d.Changes, first, last)
		}
		want := int64(4 * rowLen) // the two rows, old and new: moved rows pair too
		if d.Stats.BytesParsed > want {
			t.Fatalf("moved=%v: parsed %d bytes for two changed rows %d rows apart, want %d", moved, d.Stats.BytesParsed, last-first, want)
		}
	}
}

func TestDiffRowsErrors(t *testing.T) {
	co := chunker.Options{Min: 64, Avg: 128, Max: 256, Mode: chunker.CSV}
	spec := table.Spec{Format: table.CSV}
	keyed := table.Spec{Format: table.CSV, Key: []string{"id"}}
	tests := []struct {
		name     string
		old, new string
		want     string
	}{
		{"duplicate key", "id,a\n1,x\n", "id,a\n2,y\n2,z\n", `new version: duplicate key "2"`},
		{"wrong field count", "id,a\n1,x\n", "id,a\n1,x\n2,y,z\n", "new version: line 3: wrong number of fields"},
		{"wrong field count far down", "id,a\n" + strings.Repeat("1,x\n", 500) + "2,y\n", "id,a\n" + strings.Repeat("1,x\n", 500) + "2,y,z\n", "new version: line 502: wrong number of fields"},
		{"missing key column", "id,a\n1,x\n", "idx,a\n1,x\n", `new version: line 1: key column "id" is not in the header`},
		{"open quote runs to the end", "id,a\n1,x\n", "id,a\n\"1,x\n2,y\n", "new version: line 2: wrong number of fields"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sp := keyed
			if strings.Contains(tc.name, "far down") {
				sp = spec // keyless: the repeated rows are not duplicates
			}
			_, err := merge.DiffRows(context.Background(), table.New(sp), chunked(t, []byte(tc.old), co), chunked(t, []byte(tc.new), co), merge.DiffOptions{Aligned: true, MaxChunk: co.Max})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestDiffRowsBigRuns: long runs of new chunks are read and parsed in
// pieces, in parallel; the result is the same.
func TestDiffRowsBigRuns(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	base := genRows(r, 5000)
	after := base.clone()
	next := 0
	want := map[string]merge.RowKind{}
	for i := 0; i < 60000; i++ { // appended: several MiB
		next++
		row := []string{fmt.Sprintf("new%07d", next), randValue(r), fmt.Sprint(r.IntN(1000)), randValue(r)}
		after.rows = append(after.rows, row)
		want[row[0]] = merge.RowAdded
	}
	after.rows[10][3] += "?"
	want[after.rows[10][0]] = merge.RowChanged
	co := chunker.DefaultOptions().ForMode(chunker.CSV)
	for _, e := range []encoding{{format: table.CSV}, {format: table.JSONL, crlf: true}} {
		if e.format == table.JSONL {
			co = co.ForMode(chunker.Lines)
		}
		a, b := chunked(t, base.encode(e), co), chunked(t, after.encode(e), co)
		d, err := merge.DiffRows(context.Background(), table.New(table.Spec{Format: e.format, Key: []string{"id"}}), a, b, merge.DiffOptions{Aligned: true, MaxChunk: co.Max})
		if err != nil {
			t.Fatal(err)
		}
		if d.Stats.BytesParsed < 4<<20 {
			t.Fatalf("%s: parsed only %d bytes; the run is too small to be split", e.format, d.Stats.BytesParsed)
		}
		if g := got(t, d); diffKinds(g, want) != "" {
			t.Fatalf("%s:\n%s", e.format, diffKinds(g, want))
		}
		// Added rows come in file order.
		last := ""
		for _, c := range d.Changes {
			if c.Kind == merge.RowAdded {
				if c.Key <= last {
					t.Fatalf("%s: added rows out of order: %q after %q", e.format, c.Key, last)
				}
				last = c.Key
			}
		}
	}
}
