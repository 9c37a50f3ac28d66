package main

// Deterministic, streaming data generators for the benchmark.
//
// Everything here is a pure function of a seed and a size: generating twice
// gives the same bytes, and v2 of a dataset is produced by replaying v1's
// random stream with the edits applied, so nothing is ever held in memory
// beyond one row or one small file. This file holds what the generators
// share: the keys that separate their random streams, and mix. Each
// generator has its file: gen_table.go, gen_small.go, gen_big.go.

// Keys mixed into the seed so that independent decisions use independent
// streams.
const (
	keyEditSelect = 0x9e3779b97f4a7c15
	keyEditValues = 0xbf58476d1ce4e5b9
	keySmallPick  = 0x94d049bb133111eb
	keySmallEdit  = 0x2545f4914f6cdd1d
	keyBig        = 0x5851f42d4c957f2d
	keyBranchSel  = 0x3c6ef372fe94f82b
)

// mix is splitmix64's finalizer: a cheap keyed hash for per-id decisions.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
