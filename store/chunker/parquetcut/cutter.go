package parquetcut

import (
	"fmt"
	"io"

	"github.com/dxdata/dx/store/chunker"
)

// Cutter returns a file's chunks by its plan: each span of whole pages as
// one chunk, the others cut by a binary-mode FastCDC chunker that starts
// afresh at each span.
type Cutter struct {
	r     io.ReaderAt
	spans []Span
	ck    *chunker.Chunker
	inCDC bool // ck is cutting spans[0]
}

// NewCutter returns a Cutter reading r by spans (from Plan), using ck (whose
// stream it resets) for the spans cut with FastCDC.
func NewCutter(r io.ReaderAt, spans []Span, ck *chunker.Chunker) *Cutter {
	return &Cutter{r: r, spans: spans, ck: ck}
}

// Next appends the next chunk to buf[:0] and returns it; io.EOF after the
// last.
func (c *Cutter) Next(buf []byte) ([]byte, error) {
	for len(c.spans) > 0 {
		s := c.spans[0]
		if !s.CDC {
			c.spans = c.spans[1:]
			if int64(cap(buf)) < s.Len {
				buf = make([]byte, s.Len)
			}
			buf = buf[:s.Len]
			if err := readAt(c.r, buf, s.Off); err != nil {
				return buf[:0], fmt.Errorf("at %d: %w", s.Off, unwrapRead(err))
			}
			return buf, nil
		}
		if !c.inCDC {
			c.ck.ResetMode(io.NewSectionReader(c.r, s.Off, s.Len), chunker.Binary)
			c.inCDC = true
		}
		b, err := c.ck.Next(buf)
		if err == io.EOF {
			c.spans, c.inCDC = c.spans[1:], false
			buf = b
			continue
		}
		return b, err
	}
	return buf[:0], io.EOF
}

func unwrapRead(err error) error {
	if r, ok := err.(readError); ok {
		return r.err
	}
	return err
}
