//go:build cgo

package pack

import (
	"errors"
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
// codec: zstd if that saves at least 1/32 of the size, raw otherwise (and
// for src under minCompress bytes).
func (c *Compressor) Compress(dst, src []byte) ([]byte, Codec) {
	base := len(dst)
	if len(src) < minCompress {
		return append(dst, src...), CodecRaw
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
	if looksRandom(src) {
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
	fastLevel = -1
	// samples parts of sampleLen bytes of an object are sampled: in 1 KiB
	// of bytes spread evenly over 160 values (7.3 bits a byte), the
	// collisions fall short of looksRandom's bound by over 10 standard
	// deviations.
	samples   = 4
	sampleLen = 256
)

// looksRandom says whether src or, past samples*sampleLen bytes, as many
// parts spread over it look random: their bytes collide (two picked at
// random are equal) at most twice as often as uniform bytes do, that is
// their collision entropy is 7 bits a byte or more. Unlike the order-0
// (Shannon) entropy, which it bounds from below, it needs no logarithm:
// 256 of them an object cost more than the compression they decide on,
// for objects of a few KiB (a Parquet file's pages).
func looksRandom(src []byte) bool {
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
	// Σ c(c-1) estimates n(n-1) Σ p² without bias; uniform bytes give
	// n(n-1)/256.
	var pairs uint64
	for _, c := range h {
		pairs += uint64(c) * uint64(max(c, 1)-1)
	}
	// Fewer than 128 bytes cannot hold 7 bits a byte of order-0 entropy.
	return n >= 128 && 128*pairs <= uint64(n)*uint64(n-1)
}
