package main

// Binary content: incompressible, low-entropy, and a mix of both.

import "math/rand/v2"

// fillRandom fills b with incompressible bytes from r.
func fillRandom(r *rand.Rand, b []byte) {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := r.Uint64()
		b[i], b[i+1], b[i+2], b[i+3] = byte(x), byte(x>>8), byte(x>>16), byte(x>>24)
		b[i+4], b[i+5], b[i+6], b[i+7] = byte(x>>32), byte(x>>40), byte(x>>48), byte(x>>56)
	}
	if i < len(b) {
		x := r.Uint64()
		for ; i < len(b); i++ {
			b[i] = byte(x)
			x >>= 8
		}
	}
}

// fillLowEntropy fills b with a short repeating random pattern sprinkled with
// noise: compresses roughly 4-10x, but is not trivially constant.
func fillLowEntropy(r *rand.Rand, b []byte) {
	var pat [64]byte
	plen := 8 + r.IntN(56)
	fillRandom(r, pat[:plen])
	for i := range b {
		b[i] = pat[i%plen]
	}
	for i := 0; i < len(b)/64; i++ {
		x := r.Uint64()
		b[int(x%uint64(len(b)))] = byte(x >> 32)
	}
}

// fillMixedBinary: 4 KiB blocks, each either random or low-entropy, so the
// whole is "partly compressible" (about half).
func fillMixedBinary(r *rand.Rand, b []byte) {
	for off := 0; off < len(b); off += 4096 {
		end := min(off+4096, len(b))
		if r.IntN(2) == 0 {
			fillRandom(r, b[off:end])
		} else {
			fillLowEntropy(r, b[off:end])
		}
	}
}
