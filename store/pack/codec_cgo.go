//go:build cgo

package pack

import (
	"errors"
	"slices"
	"sync"

	czstd "github.com/DataDog/zstd"
)

// Compressor compresses objects with the zstd C library at level 1. It is
// safe for concurrent use.
type Compressor struct {
	ctxs sync.Pool // of czstd.Ctx, each used by one call at a time
}

// NewCompressor returns a Compressor.
func NewCompressor() *Compressor {
	return &Compressor{ctxs: sync.Pool{New: func() any { return czstd.NewCtx() }}}
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
	ctx := c.ctxs.Get().(czstd.Ctx)
	out, err := ctx.CompressLevel(dst[base:base+bound], src, compressLevel)
	c.ctxs.Put(ctx)
	if err == nil && len(out) < len(src)-len(src)/32 {
		return dst[:base+len(out)], CodecZstd
	}
	return append(dst[:base], src...), CodecRaw
}

// dctxs are the C decoders, each used by one call at a time.
var dctxs = sync.Pool{New: func() any { return czstd.NewCtx() }}

var errFrameSize = errors.New("frame larger than its object")

// decodeZstd appends frame's raw bytes, raw of them, to dst, which has
// room for them.
func decodeZstd(dst, frame []byte, raw int) ([]byte, error) {
	if raw == 0 || len(frame) == 0 {
		return decodeGo(dst, frame) // the C call wants a byte to point at
	}
	base := len(dst)
	ctx := dctxs.Get().(czstd.Ctx)
	n, err := ctx.DecompressInto(dst[base:base+raw], frame)
	dctxs.Put(ctx)
	if err != nil {
		if czstd.IsDstSizeTooSmallError(err) {
			err = errFrameSize
		}
		return dst[:base], err
	}
	return dst[:base+n], nil
}
