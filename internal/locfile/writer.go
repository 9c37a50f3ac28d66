package locfile

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/dxdata/dx/dag"
	"github.com/zeebo/blake3"
)

// Writer streams a location file to w: entries in strictly increasing ID
// order, then Close. It is not safe for concurrent use.
type Writer struct {
	w      *bufio.Writer
	h      *blake3.Hasher
	packs  map[dag.ID]uint32
	order  []dag.ID
	fanout [256]uint32
	n      uint64
	last   dag.ID
	buf    [entrySize]byte
	err    error
	closed bool
	sum    [32]byte
}

// NewWriter writes the header to w and returns a Writer.
func NewWriter(w io.Writer) (*Writer, error) {
	lw := &Writer{w: bufio.NewWriterSize(w, 256<<10), h: blake3.New(), packs: map[dag.ID]uint32{}}
	if err := lw.write(headerMagic); err != nil {
		return nil, err
	}
	return lw, nil
}

func (w *Writer) write(b []byte) error {
	if w.err != nil {
		return w.err
	}
	if _, err := w.w.Write(b); err != nil {
		w.err = fmt.Errorf("locfile: write: %w", err)
		return w.err
	}
	_, _ = w.h.Write(b)
	return nil
}

// Add appends e. Its ID must be greater than every ID added before.
func (w *Writer) Add(e Entry) error {
	switch {
	case w.closed:
		return errors.New("locfile: add after close")
	case w.n > 0 && bytes.Compare(e.ID[:], w.last[:]) <= 0:
		return fmt.Errorf("locfile: entry %s out of order", e.ID.Short())
	case w.n >= MaxEntries:
		return errors.New("locfile: too many entries")
	}
	if err := e.valid(); err != nil {
		return fmt.Errorf("locfile: entry %s: %v", e.ID.Short(), err)
	}
	idx, ok := w.packs[e.Pack]
	if !ok {
		idx = uint32(len(w.order))
		w.packs[e.Pack] = idx
		w.order = append(w.order, e.Pack)
	}
	putEntry(w.buf[:], e, idx)
	if err := w.write(w.buf[:]); err != nil {
		return err
	}
	w.fanout[e.ID[0]]++
	w.n++
	w.last = e.ID
	return nil
}

// Sum is the file's checksum, the BLAKE3 its trailer holds (after Close).
func (w *Writer) Sum() [32]byte { return w.sum }

// Count is the number of entries added.
func (w *Writer) Count() uint64 { return w.n }

// Close writes the pack table, the fanout and the trailer, and flushes.
// It does not close the destination.
func (w *Writer) Close() error {
	if w.closed {
		return errors.New("locfile: close twice")
	}
	w.closed = true
	for _, p := range w.order {
		if err := w.write(p[:]); err != nil {
			return err
		}
	}
	var fan [fanoutSize]byte
	var sum uint32
	for i, c := range w.fanout {
		sum += c
		binary.LittleEndian.PutUint32(fan[4*i:], sum)
	}
	if err := w.write(fan[:]); err != nil {
		return err
	}
	var tr [trailerSize]byte
	binary.LittleEndian.PutUint64(tr[0:], w.n)
	binary.LittleEndian.PutUint32(tr[8:], uint32(len(w.order)))
	if err := w.write(tr[:16]); err != nil {
		return err
	}
	w.h.Sum(tr[16:16])
	copy(w.sum[:], tr[16:48])
	copy(tr[48:], trailerMagic)
	if _, err := w.w.Write(tr[16:]); err != nil {
		return fmt.Errorf("locfile: write: %w", err)
	}
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("locfile: write: %w", err)
	}
	return nil
}
