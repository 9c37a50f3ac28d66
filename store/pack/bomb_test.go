package pack

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestDecompressBomb: a stored object from a hostile remote that claims
// a small raw size but decodes to far more (a zstd bomb: 256 MiB of
// zeros in a few KiB, with and without the size in its frame header) fails
// as corrupt having decoded at most MaxBlob, the bound of one object. The
// decoder's buffers grow by doubling up to that bound, so what it
// allocates is a small multiple of MaxBlob, not of the bomb.
func TestDecompressBomb(t *testing.T) {
	for _, withSize := range []bool{false, true} {
		var bomb bytes.Buffer
		enc, err := zstd.NewWriter(&bomb, zstd.WithEncoderLevel(zstd.SpeedFastest))
		if err != nil {
			t.Fatal(err)
		}
		if withSize {
			enc.ResetContentSize(&bomb, 256<<20)
		}
		if _, err := io.CopyN(enc, zeroReader{}, 256<<20); err != nil {
			t.Fatal(err)
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		for _, raw := range []int{100, MaxBlob} {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			out, err := Decompress(nil, bomb.Bytes(), CodecZstd, raw)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("size in header %v, raw %d: %d bytes, %v; want ErrCorrupt", withSize, raw, len(out), err)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 8*MaxBlob {
				t.Errorf("size in header %v, raw %d: allocated %d MiB", withSize, raw, got>>20)
			}
		}
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
