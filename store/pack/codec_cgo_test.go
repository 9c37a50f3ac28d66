//go:build cgo

package pack

import (
	"math/rand/v2"
	"testing"
)

// TestLevelFor: text is compressed at level 1, whose Huffman-coded
// literals make most of its gain; bytes that look random at the fast
// level; either way to the same frames (TestFramesReadEitherWay).
func TestLevelFor(t *testing.T) {
	in := codecInputs()
	text, noise := in[4], in[5]
	if got := levelFor(text); got != compressLevel {
		t.Errorf("text: level %d, want %d", got, compressLevel)
	}
	if got := levelFor(noise); got != fastLevel {
		t.Errorf("random bytes: level %d, want %d", got, fastLevel)
	}
	if got := levelFor(make([]byte, 1<<20)); got != compressLevel {
		t.Errorf("zeros: level %d, want %d", got, compressLevel)
	}
	c := NewCompressor()
	stored, codec := c.Compress(nil, text)
	if codec != CodecZstd || float64(len(stored)) > 0.45*float64(len(text)) {
		t.Fatalf("text stored as %v in %d of %d bytes: want level 1's ratio", codec, len(stored), len(text))
	}
}

// TestLooksRandom: bytes spread evenly over k values look random when k
// is 160 or more (7.3 bits a byte), not when it is 100 or fewer (6.6
// bits), whole or sampled; a few random bytes never do.
func TestLooksRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	for _, size := range []int{300, 1000, 4096, 50_000, 1 << 20} {
		for _, k := range []int{2, 50, 100, 160, 200, 256} {
			b := make([]byte, size)
			for i := range b {
				b[i] = byte(rng.IntN(k))
			}
			if got, want := looksRandom(b), k >= 160; got != want {
				t.Errorf("%d bytes over %d values: random %v, want %v", size, k, got, want)
			}
		}
	}
	if looksRandom([]byte{1}) || looksRandom(nil) || looksRandom([]byte("abcdefgh")) {
		t.Error("a few bytes look random")
	}
}
