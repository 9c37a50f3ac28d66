package pack

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// codecInputs are objects of the sizes and kinds dx stores: CSV text of a
// chunk's sizes and more, bytes that do not compress, and a run of zeros.
func codecInputs() [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	var text bytes.Buffer
	for i := 0; text.Len() < 4<<20; i++ {
		fmt.Fprintf(&text, "%d,name%d,%d.%02d,city%d\n", i, r.IntN(5000), r.IntN(100000), r.IntN(100), r.IntN(40))
	}
	noise := make([]byte, 100<<10)
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	return [][]byte{
		text.Bytes()[:1], text.Bytes()[:1000], text.Bytes()[:32<<10], text.Bytes()[:128<<10],
		text.Bytes(), noise, make([]byte, 1<<20),
	}
}

// TestFramesReadEitherWay: the frames Compress writes read with the Go
// decoder (what an older dx, or a build without cgo, reads them with), and
// the frames the Go encoder writes (what an older dx stored) read with
// Decompress: the stored format is one, whichever zstd library made it.
func TestFramesReadEitherWay(t *testing.T) {
	goEnc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(false), zstd.WithWindowSize(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	c := NewCompressor()
	zstdObjects := 0
	for i, in := range codecInputs() {
		stored, codec := c.Compress([]byte("prefix"), in)
		if !bytes.HasPrefix(stored, []byte("prefix")) {
			t.Fatalf("input %d: Compress lost what dst held", i)
		}
		stored = stored[len("prefix"):]
		if codec == CodecZstd {
			zstdObjects++
			got, err := goDecoder().DecodeAll(stored, nil)
			if err != nil || !bytes.Equal(got, in) {
				t.Errorf("input %d (%d bytes): the Go decoder read %d bytes, %v", i, len(in), len(got), err)
			}
		} else if !bytes.Equal(stored, in) {
			t.Errorf("input %d: stored raw, but not as it was", i)
		}
		got, err := Decompress(nil, stored, codec, len(in))
		if err != nil || !bytes.Equal(got, in) {
			t.Errorf("input %d: Decompress of its own: %d bytes, %v", i, len(got), err)
		}
		old := goEnc.EncodeAll(in, nil)
		got, err = Decompress([]byte("x"), old, CodecZstd, len(in))
		if err != nil || !bytes.Equal(got[1:], in) || got[0] != 'x' {
			t.Errorf("input %d: Decompress of the Go encoder's frame: %d bytes, %v", i, len(got), err)
		}
		// A frame read under a raw size other than its own is corrupt.
		for _, raw := range []int{len(in) - 1, len(in) + 1} {
			if raw < 0 {
				continue
			}
			if _, err := Decompress(nil, old, CodecZstd, raw); !errors.Is(err, ErrCorrupt) {
				t.Errorf("input %d read as %d bytes: %v, want ErrCorrupt", i, raw, err)
			}
		}
		if len(old) > 8 {
			if _, err := Decompress(nil, old[:len(old)/2], CodecZstd, len(in)); !errors.Is(err, ErrCorrupt) {
				t.Errorf("input %d, half its frame: %v, want ErrCorrupt", i, err)
			}
		}
	}
	if zstdObjects < 5 {
		t.Fatalf("%d of the inputs stored as zstd, want the compressible ones", zstdObjects)
	}
}

// TestSmallObjectsRaw: an object under minCompress bytes is stored raw,
// however well it would compress, and one at minCompress is compressed
// when that pays.
func TestSmallObjectsRaw(t *testing.T) {
	c := NewCompressor()
	for _, n := range []int{1, 40, minCompress - 1} {
		in := make([]byte, n) // zeros: zstd would shrink them
		stored, codec := c.Compress([]byte("p"), in)
		if codec != CodecRaw || !bytes.Equal(stored, append([]byte("p"), in...)) {
			t.Errorf("%d zero bytes: codec %v, %d bytes stored; want raw", n, codec, len(stored)-1)
		}
	}
	in := make([]byte, minCompress)
	if _, codec := c.Compress(nil, in); codec != CodecZstd {
		t.Errorf("%d zero bytes: codec %v, want zstd", minCompress, codec)
	}
}

// TestDecompressAppendsAmortized: objects decoded one after another onto
// one buffer (a table read whole, when its chunks are not cut at rows)
// grow it as append does, so each byte is copied a few times; grown to
// the exact size each time, the buffer was copied whole for every object,
// which took seconds for a table of tens of MB.
func TestDecompressAppendsAmortized(t *testing.T) {
	c := NewCompressor()
	obj := codecInputs()[3] // 128 KiB of CSV text
	stored, codec := c.Compress(nil, obj)
	if codec != CodecZstd {
		t.Fatalf("codec %v, want zstd", codec)
	}
	const n = 256
	var out []byte
	allocs := testing.AllocsPerRun(3, func() {
		out = nil
		for range n {
			var err error
			if out, err = Decompress(out, stored, codec, len(obj)); err != nil {
				t.Fatal(err)
			}
		}
	})
	if len(out) != n*len(obj) || !bytes.Equal(out[len(out)-len(obj):], obj) {
		t.Fatalf("%d bytes decoded, want %d objects of %d", len(out), n, len(obj))
	}
	// Doubling from one object: log2(256) + 1 buffers, and a few of the
	// Go decoder's own (built without cgo).
	if allocs > n/8 {
		t.Fatalf("%d objects appended to one buffer allocated %.0f times: regrown for each", n, allocs)
	}
}
