//go:build !cgo

package pack

import (
	"fmt"
	"runtime"

	"github.com/klauspost/compress/zstd"
)

// Compressor compresses objects with zstd at its fastest level. It is safe
// for concurrent use.
type Compressor struct {
	enc *zstd.Encoder
}

// NewCompressor returns a Compressor with one encoder per CPU.
func NewCompressor() *Compressor {
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderCRC(false), // objects are verified by their ID
		zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithWindowSize(1<<20),
	)
	if err != nil {
		panic(fmt.Sprintf("pack: zstd encoder: %v", err)) // options are constant
	}
	return &Compressor{enc: enc}
}

// Compress appends the stored form of src to dst and returns it with its
// codec: zstd if that saves at least 1/32 of the size, raw otherwise.
func (c *Compressor) Compress(dst, src []byte) ([]byte, Codec) {
	base := len(dst)
	if len(src) < minCompress {
		return append(dst, src...), CodecRaw
	}
	out := c.enc.EncodeAll(src, dst)
	if len(src) > 0 && len(out)-base < len(src)-len(src)/32 {
		return out, CodecZstd
	}
	return append(out[:base], src...), CodecRaw
}

// decodeZstd appends frame's raw bytes to dst.
func decodeZstd(dst, frame []byte, _ int) ([]byte, error) { return decodeGo(dst, frame) }
