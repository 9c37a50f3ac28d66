package dag

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/zeebo/blake3"
)

// Hash reuses its hashers: every ID must still be the BLAKE3 of a fresh
// hasher keyed for the kind, whatever was hashed before and however many
// goroutines hash at once.
func TestHashReusedHashersMatchFresh(t *testing.T) {
	sizes := []int{0, 1, 63, 64, 65, 1023, 1024, 1025, 8191, 8192, 8193, 70000}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for i := 0; i < 300; i++ {
				k := Kind(1 + rng.IntN(int(KindStage)))
				data := make([]byte, sizes[rng.IntN(len(sizes))])
				for j := range data {
					data[j] = byte(rng.Uint32())
				}
				fresh := blake3.NewDeriveKey(hashContexts[k])
				_, _ = fresh.Write(data)
				var want ID
				fresh.Sum(want[:0])
				if got := Hash(k, data); got != want {
					t.Errorf("kind %v, %d bytes: %s, want %s", k, len(data), got.Short(), want.Short())
					return
				}
			}
		}()
	}
	wg.Wait()
}
