//go:build cgo

package pack

import (
	"errors"
	"math"
	"runtime"
	"slices"
	"sync"

	czstd "github.com/DataDog/zstd"
)

// Compressor compresses objects with the zstd C library, at level 1 or,
// for bytes that look random, -1 (see levelFor). It is safe for
// concurrent use.
type Compressor struct {
	ctxs ctxPool
}

// NewCompressor returns a Compressor.
func NewCompressor() *Compressor {
	return &Compressor{ctxs: newCtxPool()}
}

// ctxPool keeps C contexts, each used by one call at a time. Unlike a
// sync.Pool it is not emptied by every garbage collection: a new context
// allocates and sets up its tables again at its first call.
type ctxPool chan czstd.Ctx

func newCtxPool() ctxPool { return make(ctxPool, 2*runtime.GOMAXPROCS(0)) }

func (p ctxPool) get() czstd.Ctx {
	select {
	case c := <-p:
		return c
	default:
		return czstd.NewCtx()
	}
}

func (p ctxPool) put(c czstd.Ctx) {
	select {
	case p <- c:
	default: // freed by its finalizer
	}
}

// Compress appends the stored form of src to dst and returns it with its
// codec: zstd if that saves at least 1/32 of the size, raw otherwise.
func (c *Compressor) Compress(dst, src []byte) ([]byte, Codec) {
	base := len(dst)
	if len(src) == 0 {
		return dst, CodecRaw
	}
	bound := czstd.CompressBound(len(src))
	dst = slices.Grow(dst, bound)
	ctx := c.ctxs.get()
	out, err := ctx.CompressLevel(dst[base:base+bound], src, levelFor(src))
	c.ctxs.put(ctx)
	if err == nil && len(out) < len(src)-len(src)/32 {
		return dst[:base+len(out)], CodecZstd
	}
	return append(dst[:base], src...), CodecRaw
}

// levelFor is the zstd level to compress src at: compressLevel, unless a
// sample of its bytes looks random (compressed pages of a Parquet file,
// media), where the Huffman coding of literals that level 1 adds to the
// negative levels gains nothing: fastLevel then, which still finds the
// repeats, at twice the speed or more.
func levelFor(src []byte) int {
	if sampleEntropy(src) >= randomBits {
		return fastLevel
	}
	return compressLevel
}

// dctxs are the C decoders.
var dctxs = sync.OnceValue(newCtxPool)

var errFrameSize = errors.New("frame larger than its object")

// decodeZstd appends frame's raw bytes, raw of them, to dst, which has
// room for them.
func decodeZstd(dst, frame []byte, raw int) ([]byte, error) {
	if raw == 0 || len(frame) == 0 {
		return decodeGo(dst, frame) // the C call wants a byte to point at
	}
	base := len(dst)
	ctx := dctxs().get()
	n, err := ctx.DecompressInto(dst[base:base+raw], frame)
	dctxs().put(ctx)
	if err != nil {
		if czstd.IsDstSizeTooSmallError(err) {
			err = errFrameSize
		}
		return dst[:base], err
	}
	return dst[:base+n], nil
}

const (
	fastLevel  = -1
	randomBits = 7.0  // bits of order-0 entropy a byte, of 8, past which a sample looks random
	samples    = 4    // parts of a big object sampled
	sampleLen  = 1024 // bytes of each
)

// sampleEntropy is the order-0 entropy, in bits a byte, of src or, past
// samples*sampleLen bytes, of as many parts spread over it.
func sampleEntropy(src []byte) float64 {
	var h [256]uint32
	n := len(src)
	if n <= samples*sampleLen {
		for _, c := range src {
			h[c]++
		}
	} else {
		step := n / samples
		for i := range samples {
			for _, c := range src[i*step : i*step+sampleLen] {
				h[c]++
			}
		}
		n = samples * sampleLen
	}
	e := 0.0
	for _, c := range h {
		if c > 0 {
			p := float64(c) / float64(n)
			e -= p * math.Log2(p)
		}
	}
	return e
}
