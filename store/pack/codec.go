package pack

import (
	"fmt"
	"runtime"
	"sync"

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
	out := c.enc.EncodeAll(src, dst)
	if len(src) > 0 && len(out)-base < len(src)-len(src)/32 {
		return out, CodecZstd
	}
	return append(out[:base], src...), CodecRaw
}

var decoder = sync.OnceValue(func() *zstd.Decoder {
	d, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithDecoderMaxMemory(MaxBlob),
		zstd.IgnoreChecksum(true),
	)
	if err != nil {
		panic(fmt.Sprintf("pack: zstd decoder: %v", err)) // options are constant
	}
	return d
})

// DecodeSlack is the spare room zstd wants after an object's decoded bytes
// to decode with its fast copies, which may write past the end of the
// output; with less, it takes its slower bounds-exact copies. A buffer for
// one decoded object is best allocated with this much more.
const DecodeSlack = 64

// Decompress appends the decoded form of stored to dst. It fails with
// ErrCorrupt unless the result is exactly raw bytes long.
func Decompress(dst, stored []byte, codec Codec, raw int) ([]byte, error) {
	if raw < 0 || raw > MaxBlob {
		return dst, corrupt("raw size %d out of range", raw)
	}
	switch codec {
	case CodecRaw:
		if len(stored) != raw {
			return dst, corrupt("raw object of %d bytes, want %d", len(stored), raw)
		}
		return append(dst, stored...), nil
	case CodecZstd:
		base := len(dst)
		if cap(dst)-base < raw+DecodeSlack {
			nd := make([]byte, base, base+raw+DecodeSlack)
			copy(nd, dst)
			dst = nd
		}
		out, err := decoder().DecodeAll(stored, dst)
		if err != nil {
			return dst[:base], fmt.Errorf("%w: zstd: %v", ErrCorrupt, err)
		}
		if len(out)-base != raw {
			return out[:base], corrupt("decoded %d bytes, want %d", len(out)-base, raw)
		}
		return out, nil
	}
	return dst, corrupt("unknown codec %d", codec)
}
