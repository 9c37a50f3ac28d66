package csvdialect

import (
	"bufio"
	"io"
)

// Writer writes records in a dialect, each ended by '\n', so that Record
// reads them back as written. Like encoding/csv's Writer it buffers:
// call Flush, then Error.
type Writer struct {
	w   *bufio.Writer
	d   Dialect
	buf []byte
	err error
}

// NewWriter returns a Writer of dialect d on w.
func NewWriter(w io.Writer, d Dialect) *Writer { return &Writer{w: bufio.NewWriter(w), d: d} }

// Write writes one record.
func (w *Writer) Write(rec []string) error {
	if w.err != nil {
		return w.err
	}
	w.buf = w.d.AppendRecord(w.buf[:0], rec)
	w.buf = append(w.buf, '\n')
	_, w.err = w.w.Write(w.buf)
	return w.err
}

// Flush writes what is buffered.
func (w *Writer) Flush() {
	if err := w.w.Flush(); err != nil && w.err == nil {
		w.err = err
	}
}

// Error is the first error of a Write or Flush.
func (w *Writer) Error() error { return w.err }

// AppendRecord appends rec's fields, delimited, without a line end.
func (d Dialect) AppendRecord(dst []byte, rec []string) []byte {
	for i, v := range rec {
		if i > 0 {
			dst = append(dst, d.Comma)
		}
		dst = d.AppendField(dst, v, len(rec))
	}
	return dst
}
