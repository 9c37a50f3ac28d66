package check

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
)

// TestIngestedAgreesWithFull: over random tables (keys in order or not,
// repeated, ragged rows, quoted fields, CRLF, no last line end, one
// column, no key) cut at random places (row ends mostly, sometimes inside
// a row) and checked chunk by chunk in random order, a version the
// ingest-time check calls good is one Full calls good, with the same row
// count; and it calls the plain, ordered ones good. A chunk's key range
// it gives (sparing the store its own reading) is the one
// table.Reader.ChunkKeys reads.
func TestIngestedAgreesWithFull(t *testing.T) {
	ctx := context.Background()
	agreed, fullGood, ranged := 0, 0, 0
	for seed := uint64(1); seed <= 600; seed++ {
		rng := rand.New(rand.NewPCG(seed, 9))
		oneCol := rng.IntN(8) == 0
		spec := table.Spec{Format: table.CSV, Key: []string{"id"}}
		switch rng.IntN(6) {
		case 0:
			spec.Key = nil
		case 1:
			spec.Key = []string{"id", "n"} // two columns, where there are
		}
		tb := table.New(spec)
		var b strings.Builder
		nl := "\n"
		if rng.IntN(6) == 0 {
			nl = "\r\n"
		}
		if oneCol {
			b.WriteString("id" + nl)
		} else {
			b.WriteString("id,name,n" + nl)
		}
		n := rng.IntN(200)
		flaw, at := rng.IntN(8), rng.IntN(n+1) // flaws 0-2: none
		for i := 0; i < n; i++ {
			id := i * 3
			if i == at && flaw == 4 {
				id = rng.IntN(3 * n) // out of order, maybe repeated
			}
			if i == at && flaw == 5 {
				id = (i - 1) * 3 // the previous row's
			}
			if i == at && flaw == 3 {
				id = (i - 2) * 3 // a row's two before: out of order, perhaps across a cut
			}
			switch {
			case oneCol:
				fmt.Fprintf(&b, "%d", id)
			case i == at && flaw == 6:
				fmt.Fprintf(&b, "%d,name%d", id, i) // ragged
			case i == at && flaw == 7:
				fmt.Fprintf(&b, "%d,\"na,me\",%d", id, i) // quoted
			default:
				fmt.Fprintf(&b, "%d,name%d,%d", id, rng.IntN(50), i)
			}
			if i < n-1 || rng.IntN(4) > 0 {
				b.WriteString(nl)
			}
		}
		data := b.String()

		whole := &memSource{}
		whole.add(data)
		var count int64 = -1
		full := Full(ctx, tb, Version{Path: "t.csv", Source: whole, Cut: merge.DiffOptions{Aligned: true, MaxChunk: 1 << 30}, Count: &count})
		if full == nil {
			fullGood++
		}

		h, hdrLen, err := tb.Header([]byte(data), true)
		if err != nil {
			continue
		}
		in := NewIngested(tb, h, []byte(data[:hdrLen]))
		// Chunks: cut after random line ends, now and then inside a row.
		var chunks []string
		start := 0
		cutsRows := rng.IntN(4) == 0
		for i := 0; i < len(data); i++ {
			atEnd := data[i] == '\n' && rng.IntN(4) == 0
			inRow := cutsRows && data[i] != '\n' && rng.IntN(500) == 0
			if (atEnd || inRow) && i+1 < len(data) {
				chunks = append(chunks, data[start:i+1])
				start = i + 1
			}
		}
		chunks = append(chunks, data[start:])
		_, rangeOf, keyed := tb.ChunkKeys(h)
		for _, i := range rng.Perm(len(chunks)) {
			// A range given is the one the store would read apart.
			r, ok := in.Chunk(i, []byte(chunks[i]))
			if !ok {
				continue
			}
			ranged++
			if !keyed {
				t.Fatalf("seed %d: a key range of a table without a key", seed)
			}
			if want, wok := rangeOf([]byte(chunks[i]), i == 0); !wok || want != r {
				t.Fatalf("seed %d, chunk %d: key range %+v; read apart %+v (%v)\n%q", seed, i, r, want, wok, chunks[i])
			}
		}
		if _, ok := in.Result(table.Spec{Format: table.CSV, Key: []string{"name"}}, len(chunks)); ok {
			t.Fatalf("seed %d: good under another key", seed)
		}
		rows, ok := in.Result(spec, len(chunks))
		if !ok {
			continue
		}
		if full != nil || rows != count {
			t.Fatalf("seed %d: checked at ingest as good, %d rows; Full: %v, %d rows\n%s", seed, rows, full, count, data)
		}
		agreed++
	}
	if agreed < 200 || fullGood < agreed || ranged < 1000 {
		t.Fatalf("%d versions checked good at ingest, %d by Full, %d chunks' key ranges: too few to tell", agreed, fullGood, ranged)
	}
}
