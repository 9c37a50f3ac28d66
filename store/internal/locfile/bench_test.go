package locfile

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkFind looks up IDs present in a mapped file of a million entries.
func BenchmarkFind(b *testing.B) {
	r := rand.New(rand.NewPCG(13, 14))
	es := randEntries(r, 1<<20, randPacks(r, 64))
	path := filepath.Join(b.TempDir(), "b.loc")
	if err := os.WriteFile(path, encode(&testing.T{}, es), 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.ResetTimer()
	for i := range b.N {
		if _, ok, err := f.Find(es[(i*7919)%len(es)].ID); !ok || err != nil {
			b.Fatal("not found")
		}
	}
}
