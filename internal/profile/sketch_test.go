package profile

import (
	"math/rand/v2"
	"testing"
)

// TestDenseBins: bins added at indices in any order, below and above
// those before, add up as a map of them would.
func TestDenseBins(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 14))
	for round := range 200 {
		var b denseBins
		want := map[int]uint64{}
		for range rng.IntN(300) {
			i := rng.IntN(2000) - 1000
			if round%3 == 0 {
				i = rng.IntN(10) // close together
			}
			n := uint64(1 + rng.IntN(5))
			b.add(i, n)
			want[i] += n
		}
		got := map[int]uint64{}
		for j, n := range b.counts {
			if n > 0 {
				got[b.offset+j] = n
			}
		}
		if len(got) != len(want) {
			t.Fatalf("round %d: %d bins, want %d", round, len(got), len(want))
		}
		for i, n := range want {
			if got[i] != n {
				t.Fatalf("round %d: bin %d holds %d, want %d", round, i, got[i], n)
			}
		}
	}
}
