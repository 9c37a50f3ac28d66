package locfile

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/dxdata/dx/dag"
)

// BenchmarkFind looks up IDs present in a mapped file of a million
// entries with IDs spread as hashes are (randEntries makes some share
// long prefixes, to test; here they do not).
func BenchmarkFind(b *testing.B) {
	r := rand.New(rand.NewPCG(13, 14))
	es := randEntries(r, 1<<20, randPacks(r, 64))
	for i := range es {
		for j := range es[i].ID {
			es[i].ID[j] = byte(r.Uint32())
		}
	}
	es = sortUnique(es)
	ids := make([]dag.ID, 1<<16) // a few, so the loop itself misses no cache
	for i := range ids {
		ids[i] = es[r.IntN(len(es))].ID
	}
	path := filepath.Join(b.TempDir(), "b.loc")
	if err := os.WriteFile(path, encode(b, es), 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.ResetTimer()
	for i := range b.N {
		if _, ok, err := f.Find(ids[i%len(ids)]); !ok || err != nil {
			b.Fatal("not found")
		}
	}
}
