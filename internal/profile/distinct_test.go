package profile

import (
	"math/rand/v2"
	"testing"
)

// TestSparseRegisters: a span's registers, encoded as a sparse list (rank
// by rank, a byte an entry mostly), read back and merge as the dense
// registers they came from, also into registers whose floor spares the
// lower ranks; a list cut short reads as the registers before the cut.
func TestSparseRegisters(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	for round := range 300 {
		var dense [1 << hllPrecision]uint8
		var set [1 << hllPrecision / 64]uint64
		n := rng.IntN(3000)
		if round%10 == 0 {
			n = rng.IntN(4) // long gaps
		}
		for range n {
			e := register(rng.Uint64())
			i := e >> 6
			dense[i] = max(dense[i], uint8(e&63))
			set[i/64] |= 1 << (i % 64)
		}
		if round%7 == 0 { // a high rank
			i := rng.IntN(len(dense))
			dense[i], set[i/64] = uint8(9+rng.IntN(50)), set[i/64]|1<<(i%64)
		}
		r := sparseRegisters(&dense, &set)
		var back [1 << hllPrecision]uint8
		count := 0
		eachSparse(r.sparse, 0, func(idx uint32, rank uint8) { back[idx], count = rank, count+1 })
		if back != dense {
			t.Fatalf("round %d: %d registers read back differ", round, count)
		}
		if len(r.sparse) > 2*count+3*64 {
			t.Fatalf("round %d: %d bytes for %d registers", round, len(r.sparse), count)
		}
		merged := &registers{}
		merged.toDense()
		merged.dense[rng.IntN(len(dense))] = 63
		want := merged.clone()
		for i, v := range dense {
			want.dense[i] = max(want.dense[i], v)
		}
		merged.merge(r)
		if string(merged.dense) != string(want.dense) {
			t.Fatalf("round %d: merged registers differ", round)
		}
		// Into registers all at least k (their floor): the entries of
		// higher ranks alone read, the same registers.
		k := uint8(rng.IntN(4))
		high := &registers{dense: make([]uint8, 1<<hllPrecision)}
		for i := range high.dense {
			high.dense[i] = k + uint8(rng.IntN(3))
		}
		high.floor = k
		wantHigh := high.clone()
		for i, v := range dense {
			wantHigh.dense[i] = max(wantHigh.dense[i], v)
		}
		high.merge(r)
		if string(high.dense) != string(wantHigh.dense) {
			t.Fatalf("round %d: merged above floor %d, registers differ", round, k)
		}
		read := 0
		eachSparse(r.sparse, k, func(_ uint32, rank uint8) {
			if rank <= k {
				t.Fatalf("round %d: rank %d read above floor %d", round, rank, k)
			}
			read++
		})
		above := 0
		for _, v := range dense {
			if v > k {
				above++
			}
		}
		if read != above {
			t.Fatalf("round %d: %d entries above floor %d read, want %d", round, read, k, above)
		}
		if len(r.sparse) > 0 {
			cut := r.sparse[:rng.IntN(len(r.sparse))]
			eachSparse(cut, 0, func(idx uint32, rank uint8) {
				if dense[idx] != rank {
					t.Fatalf("round %d: a cut list sets register %d to %d", round, idx, rank)
				}
			})
			(&registers{dense: make([]uint8, 1<<hllPrecision)}).merge(&registers{sparse: cut})
		}
	}
}

// TestRegistersFloor: merged into from many spans' lists and single
// hashes, dense registers keep their floor the least register and
// atFloor the registers at it (the floor rises as soon as it may), and
// hold what merging every register by max would.
func TestRegistersFloor(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	r := &registers{}
	r.toDense()
	var want [1 << hllPrecision]uint8
	for round := range 3000 {
		var dense [1 << hllPrecision]uint8
		var set [1 << hllPrecision / 64]uint64
		for range 1 + rng.IntN(400) {
			e := register(rng.Uint64())
			i := e >> 6
			dense[i] = max(dense[i], uint8(e&63))
			set[i/64] |= 1 << (i % 64)
		}
		if round%5 == 0 {
			x := rng.Uint64()
			r.add(x)
			e := register(x)
			want[e>>6] = max(want[e>>6], uint8(e&63))
		} else {
			r.merge(sparseRegisters(&dense, &set))
			for i, v := range dense {
				want[i] = max(want[i], v)
			}
		}
		if string(r.dense) != string(want[:]) {
			t.Fatalf("round %d: registers differ", round)
		}
		least, at := uint8(255), 0
		for _, v := range want {
			if v < least {
				least, at = v, 0
			}
			if v == least {
				at++
			}
		}
		if r.floor != least || r.atFloor != at {
			t.Fatalf("round %d: floor %d at %d registers, want %d at %d", round, r.floor, r.atFloor, least, at)
		}
	}
	if r.floor < 2 {
		t.Fatalf("floor %d after 3000 merges", r.floor)
	}
}
