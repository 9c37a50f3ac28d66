//go:build cgo

package pack

import "testing"

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
