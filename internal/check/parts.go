package check

import (
	"context"

	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
)

// Span is a run of a version's chunks [From, To) that starts and ends at
// row boundaries: the unit that can be parsed alone (a profile's too).
type Span struct{ From, To int }

// Spans splits a version's chunks where a cut is a row boundary (one span
// of all the chunks when the cuts may fall inside rows).
func Spans(src merge.Source, cut merge.DiffOptions) []Span {
	ss := spans(src, cut)
	out := make([]Span, len(ss))
	for i, s := range ss {
		out[i] = Span{s.from, s.to}
	}
	return out
}

// Header reads a version's header from its first chunks, and says how
// many bytes it takes.
func Header(ctx context.Context, t *table.Reader, src merge.Source) (merge.Header, int, error) {
	return header(ctx, t, src)
}

// ReadSpan appends the chunks of span s of v to buf and returns them
// whole, and the bytes past the header (hdrLen bytes, in the first span)
// as data.
func ReadSpan(ctx context.Context, v Version, s Span, hdrLen int, buf []byte) (whole, data []byte, err error) {
	return readSpan(ctx, v, span{s.From, s.To}, hdrLen, buf)
}
