package profile

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
)

// benchRows are 64 KiB of rows shaped as the bench's table: an id, a
// name and an email of many values, a city of 32, an amount, a
// timestamp and a note.
func benchRows() []byte {
	rng := rand.New(rand.NewPCG(1, 1))
	var b bytes.Buffer
	for id := 1; b.Len() < 64<<10; id++ {
		fmt.Fprintf(&b, "%d,First%d Last%d,first%d.last%d%d@example.com,City%d,%d.%02d,%s,word%d word%d word%d\n",
			id, rng.IntN(32), rng.IntN(32), rng.IntN(32), rng.IntN(32), rng.IntN(1000), rng.IntN(32),
			rng.IntN(20000), rng.IntN(100), time.Unix(1577836800+int64(id)*29, 0).UTC().Format(time.RFC3339),
			rng.IntN(64), rng.IntN(64), rng.IntN(64))
	}
	return b.Bytes()
}

func BenchmarkProfileSpan(b *testing.B) {
	data := benchRows()
	rd := table.New(table.Spec{Format: table.CSV, Key: []string{"id"}})
	h := merge.Header{Cols: []string{"id", "name", "email", "city", "amount", "created_at", "note"}}
	sp := newSpanProfiler(h)
	b.SetBytes(int64(len(data)))
	var size int
	for b.Loop() {
		p, err := profileSpan(rd, sp, h, data, true)
		if err != nil {
			b.Fatal(err)
		}
		enc, _ := p.Encode(nil)
		size = len(enc)
	}
	b.ReportMetric(float64(size), "encoded-bytes")
}

func BenchmarkMergeSpans(b *testing.B) {
	data := benchRows()
	rd := table.New(table.Spec{Format: table.CSV, Key: []string{"id"}})
	h := merge.Header{Cols: []string{"id", "name", "email", "city", "amount", "created_at", "note"}}
	p, _ := profileSpan(rd, newSpanProfiler(h), h, data, true)
	enc, _ := p.Encode(nil)
	for b.Loop() {
		whole := &Profile{}
		for range 100 {
			if err := whole.mergeEncoded(enc); err != nil {
				b.Fatal(err)
			}
		}
	}
}
