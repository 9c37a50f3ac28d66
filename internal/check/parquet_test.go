package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/contract"
	"github.com/dxdata/dx/internal/storetest"
)

// prow is a row of the Parquet tables these tests check.
type prow struct {
	ID    int64     `parquet:"id"`
	Name  string    `parquet:"name"`
	Score *float64  `parquet:"score,optional"`
	Code  *string   `parquet:"code,optional"`
	At    time.Time `parquet:"at,timestamp(millisecond)"`
	Price int64     `parquet:"price,decimal(2:18)"`
}

const parquetContract = `tables:
  - path: t.parquet
    unknown_columns: refuse
    rows: {min: 1, max: %d}
    columns:
      - name: id
        type: int
        min: 0
      - name: name
        required: true
        regex: '^[a-z]+$'
      - name: score
        type: float
        min: 0
        max: 100
      - name: code
        unique: true
      - name: at
        type: timestamp
        min: 2020-01-01T00:00:00Z
      - name: price
        type: decimal
        min: 0
`

func parquetRules(t testing.TB, maxRows int) Rules {
	t.Helper()
	c, err := contract.Parse(strings.NewReader(fmt.Sprintf(parquetContract, maxRows)), "dx.contract.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tb, ok := c.For("t.parquet")
	if !ok {
		t.Fatal("no rules for t.parquet")
	}
	return tb.SchemaChecker()
}

// goodRow is row i as the contract wants it.
func goodRow(i int64) prow {
	r := prow{ID: i, Name: "n" + strings.Repeat("x", int(i%5)), At: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute), Price: i * 3}
	if i%3 != 0 {
		f := float64(i%100) / 2
		r.Score = &f
	}
	if i%4 != 0 {
		s := fmt.Sprint("c", i)
		r.Code = &s
	}
	return r
}

// writeParquet writes rows with small pages and row groups, so that a
// version has many of them.
func writeParquet(t testing.TB, rows []prow) []byte {
	t.Helper()
	var b bytes.Buffer
	w := pq.NewGenericWriter[prow](&b, pq.PageBufferSize(2048), pq.Compression(&pq.Zstd))
	for from := 0; from < len(rows); from += 700 {
		if _, err := w.Write(rows[from:min(from+700, len(rows))]); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pqSource cuts a Parquet file into chunks as a commit does (at its
// pages).
type pqSource struct {
	chunks [][]byte
	refs   []dag.ChunkRef
	read   atomic.Int64 // bytes read
}

func (s *pqSource) Chunks() []dag.ChunkRef { return s.refs }

func (s *pqSource) AppendChunk(_ context.Context, i int, dst []byte) ([]byte, error) {
	s.read.Add(int64(len(s.chunks[i])))
	return append(dst, s.chunks[i]...), nil
}

func parquetVersion(t testing.TB, rows []prow, rules Rules) Version {
	t.Helper()
	s := &pqSource{}
	s.chunks, s.refs = storetest.Chunks(t, "t.parquet", writeParquet(t, rows))
	return Version{Path: "t.parquet", Source: s, Rules: rules}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestParquetFull: each rule type, broken once, is found at its row.
func TestParquetFull(t *testing.T) {
	base := make([]prow, 50)
	for i := range base {
		base[i] = goodRow(int64(i))
	}
	neg := -1.0
	for _, tc := range []struct {
		name string
		edit func(rs []prow) []prow
		want string
	}{
		{"clean", func(rs []prow) []prow { return rs }, ""},
		{"required", func(rs []prow) []prow { rs[7].Name = ""; return rs }, `t.parquet:8: name: required: ""`},
		{"regex", func(rs []prow) []prow { rs[9].Name = "Bad"; return rs }, `t.parquet:10: name: regex: "Bad"`},
		{"min float", func(rs []prow) []prow { rs[11].Score = &neg; return rs }, "t.parquet:12: score: min 0: -1"},
		{"decimal", func(rs []prow) []prow { rs[12].Price = -5; return rs }, "t.parquet:13: price: min 0: -0.05"},
		{"timestamp", func(rs []prow) []prow { rs[13].At = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC); return rs }, `t.parquet:14: at: min 2020-01-01T00:00:00Z: "2019-01-01T00:00:00Z"`},
		{"unique", func(rs []prow) []prow { rs[30].Code = rs[5].Code; return rs }, `t.parquet:31: code: unique (first on row 6): "c5"`},
		{"duplicate key", func(rs []prow) []prow { rs[40].ID = 3; return rs }, `t.parquet:41: duplicate key "3" (first on row 4)`},
		{"rows", func(rs []prow) []prow { return append(rs, goodRow(60), goodRow(61)) }, "t.parquet: (rows): max 51: 52"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := tc.edit(append([]prow(nil), base...))
			err := ParquetFull(context.Background(), []string{"id"}, parquetVersion(t, rows, parquetRules(t, 51)))
			if got := errText(err); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("%v is not ErrInvalid", err)
			}
		})
	}
}

// TestParquetMissingColumn: a contract naming a column the schema lacks
// is a violation of the schema (line 1), not a crash.
func TestParquetMissingColumn(t *testing.T) {
	c, err := contract.Parse(strings.NewReader("tables:\n  - path: t.parquet\n    columns:\n      - name: nope\n        required: true\n"), "dx.contract.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tb, _ := c.For("t.parquet")
	v := parquetVersion(t, []prow{goodRow(1), goodRow(2)}, tb.SchemaChecker())
	err = ParquetFull(context.Background(), []string{"id"}, v)
	if got, want := errText(err), `t.parquet:1: nope: missing column: ""`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestParquetChangedEqualsFull is the property: from a version that keeps
// the contract, random edits (updates that break a rule or not, inserts,
// deletes, appends, repeated unique values and keys), checking only what
// changed finds what checking the new version whole finds.
func TestParquetChangedEqualsFull(t *testing.T) {
	ctx := context.Background()
	seeds := 40
	if testing.Short() {
		seeds = 10
	}
	broken := 0
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		n := 500 + rng.IntN(3000)
		old := make([]prow, n)
		for i := range old {
			old[i] = goodRow(int64(i))
		}
		rows := append([]prow(nil), old...)
		next := int64(n)
		for range 1 + rng.IntN(6) {
			i := rng.IntN(len(rows))
			switch rng.IntN(9) {
			case 0:
				rows[i].Name = "Upper"
			case 1:
				rows[i].Name = ""
			case 2:
				f := 500.0
				rows[i].Score = &f
			case 3:
				rows[i].Code = rows[rng.IntN(len(rows))].Code
			case 4:
				rows[i].ID = rows[rng.IntN(len(rows))].ID
			case 5:
				rows = append(rows[:i], rows[i+1:]...)
			case 6:
				rows = append(rows, goodRow(next))
				next++
			case 7:
				rows[i].Price++
			default:
				s := fmt.Sprint("fresh", rng.IntN(1000))
				rows[i].Code = &s
			}
		}
		maxRows := n + rng.IntN(3) - 1
		full := ParquetFull(ctx, []string{"id"}, parquetVersion(t, rows, parquetRules(t, maxRows)))
		changed := ParquetChanged(ctx, []string{"id"}, parquetVersion(t, old, nil), parquetVersion(t, rows, parquetRules(t, maxRows)))
		if full != nil {
			broken++
		}
		if errText(full) != errText(changed) {
			t.Fatalf("seed %d: full check %q, changed rows %q", seed, errText(full), errText(changed))
		}
	}
	if broken == 0 || broken == seeds {
		t.Fatalf("%d of %d edited versions broke the contract: the edits must make both kinds", broken, seeds)
	}
}

// TestParquetUniqueReadsItsColumn: a changed row's value of a unique
// column is looked for in that column's pages alone, not in every row.
func TestParquetUniqueReadsItsColumn(t *testing.T) {
	old := make([]prow, 20000)
	for i := range old {
		old[i] = goodRow(int64(i))
	}
	rows := append([]prow(nil), old...)
	rows[15000].Code = rows[3].Code
	nv := parquetVersion(t, rows, parquetRules(t, 1<<20))
	err := ParquetChanged(context.Background(), []string{"id"}, parquetVersion(t, old, nil), nv)
	if got, want := errText(err), `t.parquet:15001: code: unique (first on row 4): "c3"`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	src := nv.Source.(*pqSource)
	var size int64
	for _, c := range src.chunks {
		size += int64(len(c))
	}
	if read := src.read.Load(); read*2 > size {
		t.Fatalf("read %d bytes of the new version's %d to check a unique column", read, size)
	}
}
