package pack

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// The zstd frames dx writes are standard ones, whichever library made
// them: with cgo (codec_cgo.go) the zstd C library writes and reads them,
// faster; without (codec_go.go), klauspost's Go zstd does. Either reads
// what the other wrote, and what older dx wrote.

// compressLevel is the C library's zstd level: 1, its fastest regular
// level (the negative ones give up a third of the ratio on text).
const compressLevel = 1

// goDecoder is the Go zstd decoder: for builds without cgo, and for the
// frames the C path leaves to it (an empty object).
var goDecoder = sync.OnceValue(func() *zstd.Decoder {
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
			// Grown as append grows a slice: a caller that appends
			// object after object to one buffer copies each byte a few
			// times, not once for every later object.
			nd := make([]byte, base, max(base+raw+DecodeSlack, 2*cap(dst)))
			copy(nd, dst)
			dst = nd
		}
		out, err := decodeZstd(dst, stored, raw)
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

// decodeGo appends the Go decoder's decoding of frame to dst.
func decodeGo(dst, frame []byte) ([]byte, error) { return goDecoder().DecodeAll(frame, dst) }

// minCompress is the size under which an object is stored raw without
// trying zstd: a File object of one or two chunks is mostly hashes, which
// do not compress, and the call into zstd cost about a microsecond for
// each of them.
const minCompress = 128

// StoredBound is the most bytes Compress can append for n bytes of input:
// zstd's bound (n + n/256 + 64 at most, for its frame) with room to spare,
// and at least n (stored raw).
func StoredBound(n int) int { return n + n/128 + 1024 }
