// Package chunker cuts a byte stream into content-defined chunks with
// FastCDC (Xia et al., USENIX ATC '16): a gear rolling hash, normalized
// chunking (level 2) and skipping of the first Min bytes of every chunk.
//
// Text gets one refinement: in Lines mode a cut is moved to just after a line
// end, and in CSV mode to just after a line end that is outside a quoted
// field. Chunks of a table then hold whole rows, so a row diff can parse only
// the chunks that changed. Cut points depend only on content, so an insertion
// changes the chunks around it and no others.
//
// Boundaries are part of the storage format in practice (they decide what is
// deduplicated against what), so the gear table is fixed and pinned by a
// golden test.
package chunker

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/dxdata/dx/internal/csvdialect"
)

// Mode says where a chunk may end.
type Mode uint8

// Modes. Values are not persisted.
const (
	// Binary cuts wherever the rolling hash says.
	Binary Mode = iota
	// Lines cuts just after a '\n' near the hash's cut point.
	Lines
	// CSV is Lines, but a '\n' inside a quoted field does not count, as
	// csvdialect.Default reads fields; its state is tracked from the
	// start of the stream.
	CSV
)

func (m Mode) String() string {
	switch m {
	case Binary:
		return "binary"
	case Lines:
		return "lines"
	case CSV:
		return "csv"
	}
	return fmt.Sprintf("mode(%d)", uint8(m))
}

// Options are the chunk size bounds and the cut mode.
type Options struct {
	Min, Avg, Max int
	Mode          Mode
	// TextMin, TextAvg and TextMax, if set, replace Min, Avg and Max
	// when ResetSniff picks a line mode: smaller chunks for tables make
	// a scattered row update touch (and a row diff read) fewer bytes.
	TextMin, TextAvg, TextMax int
}

// ForMode returns the options a stream in mode m is cut with.
func (o Options) ForMode(m Mode) Options {
	o.Mode = m
	if m != Binary && o.TextAvg != 0 {
		o.Min, o.Avg, o.Max = o.TextMin, o.TextAvg, o.TextMax
	}
	o.TextMin, o.TextAvg, o.TextMax = 0, 0, 0
	return o
}

// Size limits for Validate.
const (
	MinMin = 64
	MaxMax = 64 << 20
)

// DefaultOptions are 16 KiB / 64 KiB / 256 KiB for binary files and
// 8 / 32 / 128 KiB for text (tables above all). Small chunks keep the store
// growth of a scattered 0.01% update far below the 1–2 MiB chunks of
// restic and borg; text gets the smaller size because a scattered row
// update then touches, stores, sends and makes a row diff or contract
// check read half as much, for a small cost in ingest (bench/RESULTS.md,
// issue 23). A text file stored by an earlier dx with 64 KiB chunks reads
// as before; its next version is cut afresh.
func DefaultOptions() Options {
	return Options{Min: 16 << 10, Avg: 64 << 10, Max: 256 << 10, Mode: Binary, TextMin: 8 << 10, TextAvg: 32 << 10, TextMax: 128 << 10}
}

// Validate checks the bounds: MinMin ≤ Min < Avg < Max ≤ MaxMax and Avg a
// power of two.
func (o Options) Validate() error {
	switch {
	case o.Min < MinMin:
		return fmt.Errorf("chunker: min size %d below %d", o.Min, MinMin)
	case o.Avg <= o.Min:
		return fmt.Errorf("chunker: average size %d not above min %d", o.Avg, o.Min)
	case o.Max <= o.Avg:
		return fmt.Errorf("chunker: max size %d not above average %d", o.Max, o.Avg)
	case o.Max > MaxMax:
		return fmt.Errorf("chunker: max size %d above %d", o.Max, MaxMax)
	case o.Avg&(o.Avg-1) != 0:
		return fmt.Errorf("chunker: average size %d is not a power of two", o.Avg)
	case o.Mode > CSV:
		return fmt.Errorf("chunker: unknown mode %d", o.Mode)
	}
	if o.TextAvg != 0 || o.TextMin != 0 || o.TextMax != 0 {
		t := Options{Min: o.TextMin, Avg: o.TextAvg, Max: o.TextMax}
		if err := t.Validate(); err != nil {
			return fmt.Errorf("text sizes: %w", err)
		}
		if t.Max > o.Max {
			return fmt.Errorf("chunker: text max size %d above max %d", t.Max, o.Max)
		}
	}
	return nil
}

// Chunker reads a stream and returns its chunks in order. Not safe for
// concurrent use; Reset reuses its buffer for the next stream.
type Chunker struct {
	o            Options // in use
	base         Options // as given to New
	maskS, maskL uint64
	r            io.Reader
	buf          []byte
	start, end   int  // unread window buf[start:end]
	eof          bool // r is exhausted
	err          error
	csv          csvdialect.State // CSV: the reader's state at buf[start]
	lazy         bool             // read only as far as the next cut needs
}

// SetLazy makes the chunker read no further ahead than deciding the next
// cut needs (Max bytes), instead of filling its whole buffer: for readers
// where every byte read costs (decompressing a stored chunk, say).
func (c *Chunker) SetLazy(lazy bool) { c.lazy = lazy }

// New returns a Chunker reading r.
func New(r io.Reader, o Options) (*Chunker, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	c := &Chunker{buf: make([]byte, bufSize(o)), base: o}
	c.setOptions(o.ForMode(o.Mode))
	c.Reset(r)
	return c, nil
}

func bufSize(o Options) int {
	n := 4 * o.Max
	if n < 1<<20 {
		n = 1 << 20
	}
	return n
}

func (c *Chunker) setOptions(o Options) {
	c.o = o
	b := bits.TrailingZeros(uint(o.Avg))
	// Normalized chunking level 2: harder before Avg, easier after. The
	// mask tests the high bits of the gear hash, which depend on the last
	// 64 bytes; the low bits depend only on the last few.
	c.maskS = highBits(b + 2)
	c.maskL = highBits(b - 2)
}

func highBits(n int) uint64 {
	if n <= 0 {
		return 0
	}
	if n >= 64 {
		return ^uint64(0)
	}
	return ^uint64(0) << (64 - n)
}

// Reset makes c read a new stream with the same options.
func (c *Chunker) Reset(r io.Reader) {
	c.r = r
	c.start, c.end = 0, 0
	c.eof = false
	c.err = nil
	c.csv = csvdialect.FieldStart
}

// ResetMode is Reset with the cut mode set to m.
func (c *Chunker) ResetMode(r io.Reader, m Mode) {
	c.Reset(r)
	c.setOptions(c.base.ForMode(m))
}

// SniffSize is how many leading bytes ResetSniff shows to Sniff.
const SniffSize = 8192

// ResetSniff is Reset with the cut mode chosen by Sniff from name and the
// first bytes of r, read into the chunker's own buffer (no extra copy). A
// read error is returned by the first Next.
func (c *Chunker) ResetSniff(r io.Reader, name string) Mode {
	c.Reset(r)
	c.fill()
	head := c.buf[c.start:c.end]
	if len(head) > SniffSize {
		head = head[:SniffSize]
	}
	m := Sniff(name, head)
	c.setOptions(c.base.ForMode(m))
	return m
}

// Buffered returns the bytes read but not yet cut (after ResetSniff, the
// stream's head), valid until the next call on c.
func (c *Chunker) Buffered() []byte { return c.buf[c.start:c.end] }

// Options returns the options in use.
func (c *Chunker) Options() Options { return c.o }

// fill reads until the window holds at least Max bytes or the stream ends.
func (c *Chunker) fill() {
	if c.eof || c.end-c.start >= c.o.Max {
		return
	}
	if c.start > 0 {
		c.end = copy(c.buf, c.buf[c.start:c.end])
		c.start = 0
	}
	empty := 0
	for c.end < len(c.buf) && !(c.lazy && c.end-c.start >= c.o.Max) {
		n, err := c.r.Read(c.buf[c.end:])
		c.end += n
		if err != nil {
			c.eof = true
			if !errors.Is(err, io.EOF) {
				c.err = err
			}
			return
		}
		if n > 0 {
			empty = 0
		} else if empty++; empty > 100 {
			c.eof, c.err = true, io.ErrNoProgress
			return
		}
	}
}

// Next appends the next chunk to buf[:0] and returns it. The caller owns
// the result. At the end of the stream it returns io.EOF; a read error is
// returned as is, after the chunks read before it.
func (c *Chunker) Next(buf []byte) ([]byte, error) {
	c.fill()
	if c.start == c.end {
		if c.err != nil {
			return buf[:0], c.err
		}
		return buf[:0], io.EOF
	}
	if c.err != nil {
		// Do not cut chunks from a stream that failed part way: the tail
		// would be stored as if it were the whole file.
		return buf[:0], c.err
	}
	data := c.buf[c.start:c.end]
	n, after := c.cut(data)
	c.csv = after
	out := append(buf[:0], data[:n]...)
	c.start += n
	return out, nil
}

// cut returns the length of the chunk at the start of data and, in CSV
// mode, the reader's state after it.
func (c *Chunker) cut(data []byte) (int, csvdialect.State) {
	n, after := c.cutAt(data)
	switch {
	case c.o.Mode != CSV:
		return n, c.csv
	case after < 0:
		return n, csvdialect.Default.Advance(c.csv, data[:n])
	}
	return n, csvdialect.State(after)
}

// cutAt is cut, with the state after the chunk if it knows it, else -1.
func (c *Chunker) cutAt(data []byte) (int, int) {
	p := c.hashCut(data)
	if c.o.Mode == Binary || p == len(data) && c.eof {
		return p, -1
	}
	limit := len(data)
	if limit > c.o.Max {
		limit = c.o.Max
	}
	switch c.o.Mode {
	case Lines:
		if i := bytes.IndexByte(data[p:limit], '\n'); i >= 0 {
			return p + i + 1, -1
		}
		if i := bytes.LastIndexByte(data[c.o.Min:p], '\n'); i >= 0 {
			return c.o.Min + i + 1, -1
		}
		return limit, -1 // no line end in range: see below
	case CSV:
		// A cut at a row end leaves the reader at a record's start.
		d := csvdialect.Default
		q, atLimit := d.NextRowEnd(d.Advance(c.csv, data[:p]), data[p:limit])
		if q >= 0 {
			return p + q + 1, int(csvdialect.FieldStart)
		}
		if q := d.LastRowEnd(c.csv, data[:p], c.o.Min); q >= 0 {
			return q + 1, int(csvdialect.FieldStart)
		}
		// No row end in range: cut at the limit. In the line modes a
		// chunk then ends mid-row only if it is Max bytes long (or ends
		// the file), which lets the row diff trust every other boundary
		// without reading the chunks around it.
		return limit, int(atLimit)
	}
	return p, -1
}

// hashCut is FastCDC's cut-point search with normalized chunking.
func (c *Chunker) hashCut(data []byte) int {
	n := len(data)
	if n <= c.o.Min {
		return n
	}
	if n > c.o.Max {
		n = c.o.Max
	}
	normal := c.o.Avg
	if normal > n {
		normal = n
	}
	var fp uint64
	i := c.o.Min
	for ; i < normal; i++ {
		fp = fp<<1 + gear[data[i]]
		if fp&c.maskS == 0 {
			return i + 1
		}
	}
	for ; i < n; i++ {
		fp = fp<<1 + gear[data[i]]
		if fp&c.maskL == 0 {
			return i + 1
		}
	}
	return n
}

// gear is the rolling hash's byte table. Changing it changes every chunk
// boundary; TestGearGolden pins it.
var gear = GearTable(0x6478_6368_756e_6b31) // "dxchunk1"

// GearTable is a gear hash's byte table: splitmix64 from seed.
func GearTable(seed uint64) [256]uint64 {
	var t [256]uint64
	x := seed
	for i := range t {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		t[i] = z ^ (z >> 31)
	}
	return t
}

// Sniff picks the cut mode for a file from its name and first bytes:
// CSV for .csv, Lines for other line-oriented text (.tsv, .jsonl, .txt and
// anything that looks like text), Binary otherwise.
func Sniff(name string, head []byte) Mode {
	switch strings.ToLower(path.Ext(name)) {
	case ".csv":
		return CSV
	case ".tsv", ".tab", ".jsonl", ".ndjson", ".txt", ".log", ".json", ".md", ".sql":
		return Lines
	case ".gz", ".zst", ".zip", ".xz", ".bz2", ".parquet", ".png", ".jpg", ".jpeg", ".mp4", ".npy", ".pt", ".bin":
		return Binary
	}
	if looksText(head) {
		return Lines
	}
	return Binary
}

// looksText reports whether head is UTF-8 text with line ends and no NUL.
func looksText(head []byte) bool {
	if len(head) == 0 || bytes.IndexByte(head, 0) >= 0 || bytes.IndexByte(head, '\n') < 0 {
		return false
	}
	// The head may end inside a multi-byte rune.
	b := head
	for k := len(b) - 1; k >= 0 && k >= len(b)-utf8.UTFMax; k-- {
		if utf8.RuneStart(b[k]) {
			if !utf8.FullRune(b[k:]) {
				b = b[:k]
			}
			break
		}
	}
	return utf8.Valid(b)
}
