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
	// block holds the file's bytes from blockOff, read ahead: spans of a
	// few KiB (content-defined pages) are then not a read each.
	block    []byte
	blockOff int64
	end      int64 // of the last span
}

// NewCutter returns a Cutter reading r by spans (from Plan), using ck (whose
// stream it resets) for the spans cut with FastCDC.
func NewCutter(r io.ReaderAt, spans []Span, ck *chunker.Chunker) *Cutter {
	c := &Cutter{r: r, spans: spans, ck: ck}
	if n := len(spans); n > 0 {
		c.end = spans[n-1].Off + spans[n-1].Len
	}
	return c
}

// read copies the span s into buf, from the block read ahead, reading a
// new block where s lies outside it.
func (c *Cutter) read(buf []byte, s Span) error {
	if s.Off < c.blockOff || s.Off+s.Len > c.blockOff+int64(len(c.block)) {
		n := s.Len // a big span alone
		if s.Len < readAhead/16 {
			n = max(s.Len, min(readAhead, c.end-s.Off))
		}
		if int64(cap(c.block)) < n {
			c.block = make([]byte, n)
		}
		c.block = c.block[:n]
		if err := readAt(c.r, c.block, s.Off); err != nil {
			c.block = c.block[:0]
			return err
		}
		c.blockOff = s.Off
	}
	copy(buf, c.block[s.Off-c.blockOff:])
	return nil
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
			if err := c.read(buf, s); err != nil {
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
