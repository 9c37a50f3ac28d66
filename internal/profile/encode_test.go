package profile

import (
	"math/rand/v2"
	"testing"

	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
)

// FuzzDecode: a cached profile that is not what Encode wrote (a corrupt
// cache) is an error, never a panic, both decoded and merged.
func FuzzDecode(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 2))
	next := 0
	rd := table.New(table.Spec{Format: table.CSV})
	h := merge.Header{Cols: genHeader}
	for _, n := range []int{0, 3, 400} {
		p, err := profileSpan(rd, newSpanProfiler(h), h, writeCSV(genRows(rng, n, &next))[len("id,small,cat,f,name,ts\n"):], true)
		if err != nil {
			f.Fatal(err)
		}
		b, err := p.Encode(nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := Decode(b); err == nil {
			Summarize(p, noTypes)
		}
		_ = (&Profile{}).mergeEncoded(b)
	})
}
