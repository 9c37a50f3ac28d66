package cdcwrite

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/chunker"
	"github.com/dxdata/dx/store/chunker/parquetcut"
)

// row is a table row with the logical types a data set has: a key,
// strings (one dictionary-encoded in the source schema), a timestamp, a
// decimal, a date, a nullable value, a list and a nullable struct holding
// a map.
type row struct {
	ID      int64     `parquet:"id"`
	Name    string    `parquet:"name"`
	City    string    `parquet:"city,dict"`
	Amount  float64   `parquet:"amount"`
	Price   int64     `parquet:"price,decimal(2:18)"`
	Created time.Time `parquet:"created,timestamp(millisecond)"`
	Day     int32     `parquet:"day,date"`
	Score   *float64  `parquet:"score,optional"`
	Tags    []string  `parquet:"tags,list"`
	Addr    *addr     `parquet:"addr,optional"`
	Note    string    `parquet:"note"`
}

type addr struct {
	Street string           `parquet:"street"`
	Zip    int32            `parquet:"zip"`
	Extra  map[string]int32 `parquet:"extra"`
}

var words = []string{"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega", "updated"}

// mkRow is row id, drawn from a stream seeded by id; an edit (not 0)
// draws its amount and note again from a stream of its own.
func mkRow(id int64, edit uint64) row {
	r := rand.New(rand.NewPCG(uint64(id), 0))
	x := mkFields(id, r)
	if edit != 0 {
		e := rand.New(rand.NewPCG(uint64(id), edit))
		x.Amount = float64(e.IntN(2_000_000)) / 100
		x.Note = mkNote(e) + " updated"
	}
	return x
}

func mkNote(r *rand.Rand) string {
	note := ""
	for i := range 2 + r.IntN(6) {
		if i > 0 {
			note += " "
		}
		note += words[r.IntN(len(words))]
	}
	return note
}

func mkFields(id int64, r *rand.Rand) row {
	note := mkNote(r)
	x := row{
		ID:      id,
		Name:    words[r.IntN(24)] + " " + words[r.IntN(24)],
		City:    words[r.IntN(12)],
		Amount:  float64(r.IntN(2_000_000)) / 100,
		Price:   int64(r.IntN(1_000_000)),
		Created: time.Unix(1_600_000_000+id*29+int64(r.IntN(600)), 0).UTC(),
		Day:     int32(18000 + id/1000),
		Note:    note,
	}
	if r.IntN(5) != 0 {
		s := float64(r.IntN(1000)) / 8
		x.Score = &s
	}
	for range r.IntN(3) {
		x.Tags = append(x.Tags, words[r.IntN(len(words))])
	}
	if r.IntN(3) != 0 {
		x.Addr = &addr{Street: words[r.IntN(24)] + " street", Zip: int32(r.IntN(99999)), Extra: map[string]int32{}}
		// One entry at most: parquet-go writes a Go map in its
		// (random) iteration order.
		if r.IntN(2) == 0 {
			x.Addr.Extra[words[r.IntN(24)]] = int32(r.IntN(100))
		}
	}
	return x
}

// table is v1 of n rows, or v2: every updateMod-th row (by a hash of its
// id) updated and appendFrac more rows appended.
func table(n int64, v2 bool) []row {
	rows := make([]row, 0, n+n/50+1)
	for id := int64(1); id <= n; id++ {
		if v2 && isUpdated(id) {
			rows = append(rows, mkRow(id, 1))
			continue
		}
		rows = append(rows, mkRow(id, 0))
	}
	if v2 {
		for id := n + 1; id <= n+(n+49)/50; id++ {
			rows = append(rows, mkRow(id, 0))
		}
	}
	return rows
}

// isUpdated picks one row in 10,000 (0.01%).
func isUpdated(id int64) bool {
	return (uint64(id)*0x9e3779b97f4a7c15)>>40%10000 == 0
}

// toRows deconstructs rows by schema.
func toRows(s *parquet.Schema, rows []row) []parquet.Row {
	out := make([]parquet.Row, len(rows))
	for i := range rows {
		out[i] = s.Deconstruct(nil, &rows[i])
	}
	return out
}

// writeCDC writes rows with this package's writer.
func writeCDC(t testing.TB, rows []row, o Options) []byte {
	t.Helper()
	s := parquet.SchemaOf(row{})
	var buf bytes.Buffer
	w, err := NewWriter(&buf, s, o)
	if err != nil {
		t.Fatal(err)
	}
	pr := toRows(s, rows)
	for len(pr) > 0 {
		n := min(len(pr), 1000)
		if _, err := w.WriteRows(pr[:n]); err != nil {
			t.Fatal(err)
		}
		pr = pr[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writePlain writes rows with parquet-go's own page and row group cuts
// (the writer's CDC off), zstd.
func writePlain(t testing.TB, rows []row) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[row](&buf, parquet.Compression(&parquet.Zstd))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// chunks cuts a file as dx's commit does (at its pages) and returns the
// chunks' IDs and sizes.
func chunks(t testing.TB, data []byte) map[dag.ID]int {
	t.Helper()
	o := chunker.DefaultOptions()
	ck, err := chunker.New(nil, o)
	if err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(data)
	spans, err := parquetcut.Plan(r, int64(len(data)), o.ForMode(chunker.Binary))
	if err != nil {
		t.Fatal(err)
	}
	next := parquetcut.NewCutter(r, spans, ck).Next
	out := map[dag.ID]int{}
	for {
		b, err := next(nil)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[dag.Hash(dag.KindChunk, b)] = len(b)
	}
}

// growth is the bytes of v2's chunks that v1 lacks.
func growth(t testing.TB, v1, v2 []byte) int64 {
	t.Helper()
	a, b := chunks(t, v1), chunks(t, v2)
	var n int64
	for id, l := range b {
		if _, ok := a[id]; !ok {
			n += int64(l)
		}
	}
	return n
}

// readRows reads a file back with parquet-go into rows.
func readRows(t testing.TB, data []byte) []row {
	t.Helper()
	out, err := parquet.Read[row](bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func pct(a, b int64) string { return fmt.Sprintf("%.2f%%", 100*float64(a)/float64(b)) }
