package parquetcut

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/zeebo/xxh3"

	"github.com/dxdata/dx/store/chunker"
)

// ErrNotParquet is wrapped by Plan's errors: the file is not Parquet that
// can be cut at its pages (truncated, a corrupt footer or page header,
// offsets outside the file, an encrypted footer).
var ErrNotParquet = errors.New("not valid Parquet")

// Magic opens and closes every (unencrypted) Parquet file.
const Magic = "PAR1"

// MaxFooter is the largest footer Plan reads.
const MaxFooter = 256 << 20

// Span is a run of a file's bytes: one chunk, or, if CDC is set, bytes to
// cut inside with FastCDC.
type Span struct {
	Off, Len int64
	CDC      bool
}

// Sniff reports whether the file starts and ends with the Parquet magic.
func Sniff(r io.ReaderAt, size int64) bool {
	if size < 2*int64(len(Magic))+4 {
		return false
	}
	var head, tail [4]byte
	if readAt(r, head[:], 0) != nil || readAt(r, tail[:], size-4) != nil {
		return false
	}
	return string(head[:]) == Magic && string(tail[:]) == Magic
}

// Plan reads the footer and page headers of the Parquet file r of size
// bytes and returns the spans it is cut into, in order, covering it
// exactly. Chunk sizes are o's (its Min and Max). An error wraps
// ErrNotParquet, or is r's read error.
func Plan(r io.ReaderAt, size int64, o chunker.Options) ([]Span, error) {
	spans, err := plan(r, size, o)
	if err != nil {
		var rerr readError
		if errors.As(err, &rerr) {
			return nil, rerr.err
		}
		return nil, fmt.Errorf("%w: %v", ErrNotParquet, err)
	}
	return spans, nil
}

// readError is a read error of r, as opposed to a fault in the file.
type readError struct{ err error }

func (e readError) Error() string { return e.err.Error() }

// readAt reads exactly len(b) bytes at off.
func readAt(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return errors.New("file shorter than it says")
	}
	return readError{err}
}

func plan(r io.ReaderAt, size int64, o chunker.Options) ([]Span, error) {
	const trailer = 8 // footer length and magic
	if size < int64(len(Magic))+trailer {
		return nil, fmt.Errorf("%d bytes is too short", size)
	}
	var head, tail [8]byte
	if err := readAt(r, head[:4], 0); err != nil {
		return nil, err
	}
	if err := readAt(r, tail[:], size-trailer); err != nil {
		return nil, err
	}
	if string(head[:4]) != Magic || string(tail[4:]) != Magic {
		return nil, errors.New("no PAR1 magic at both ends")
	}
	footerLen := int64(binary.LittleEndian.Uint32(tail[:4]))
	footerStart := size - trailer - footerLen
	if footerLen == 0 || footerLen > MaxFooter || footerStart < int64(len(Magic)) {
		return nil, fmt.Errorf("footer length %d does not fit the file", footerLen)
	}
	footer := make([]byte, footerLen)
	if err := readAt(r, footer, footerStart); err != nil {
		return nil, err
	}
	chunks, err := columnChunks(footer)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(chunks, func(a, b columnChunk) int { return cmp.Compare(a.start, b.start) })
	b := builder{min: int64(o.Min), avg: int64(o.Avg), max: int64(o.Max)}
	// The leading magic is a chunk of its own, the same in every Parquet
	// file, so the first pages are shared wherever they move.
	b.add(Span{Off: 0, Len: int64(len(Magic))})
	pos := int64(len(Magic))
	for _, cc := range chunks {
		if cc.start < pos || cc.end > footerStart {
			return nil, fmt.Errorf("column chunk [%d, %d) overlaps another or lies outside [%d, %d)", cc.start, cc.end, pos, footerStart)
		}
		b.gap(pos, cc.start)
		pages, err := walkPages(r, cc)
		if err != nil {
			return nil, err
		}
		b.pages(pages)
		pos = cc.end
	}
	b.gap(pos, footerStart)
	b.add(Span{Off: footerStart, Len: size - footerStart, CDC: size-footerStart > b.max})
	return b.spans, nil
}

// page is one page of a column chunk; anchor says a group of small pages
// may end after it.
type page struct {
	off, len int64
	anchor   bool
}

// headerWindow is how much is read first to find a page header; a header
// longer than that (large statistics) is read again with a bigger window,
// up to maxHeader.
const (
	headerWindow = 4 << 10
	maxHeader    = 16 << 20
)

// walkPages reads the page headers of a column chunk, which must tile it
// exactly. Small pages are read a block at a time (readAhead), their
// headers parsed from it: a read per header would cost a system call a
// page, and content-defined pages are a few KiB.
func walkPages(r io.ReaderAt, cc columnChunk) ([]page, error) {
	var pages []page
	var buf []byte        // bytes of the file from bufOff
	bufOff := int64(-1)   // none yet
	var small, seen int64 // pages seen, of which smaller than readAhead/16
	for pos := cc.start; pos < cc.end; {
		window := int64(headerWindow)
		for {
			n := min(window, cc.end-pos)
			var b []byte
			if bufOff >= 0 && pos >= bufOff && pos+n <= bufOff+int64(len(buf)) {
				b = buf[pos-bufOff : pos-bufOff+n]
			} else {
				// Mostly small pages so far: read ahead a block.
				want := n
				if seen > 0 && small*2 > seen && window == headerWindow {
					want = min(int64(readAhead), cc.end-pos)
				}
				if int64(cap(buf)) < want {
					buf = make([]byte, want)
				}
				buf = buf[:want]
				if err := readAt(r, buf, pos); err != nil {
					return nil, err
				}
				bufOff = pos
				b = buf[:n]
			}
			h, size, err := pageHeader(b)
			if errors.Is(err, errShort) && n < cc.end-pos && window < maxHeader {
				window *= 16
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("page header at %d: %v", pos, err)
			}
			end := pos + int64(h) + size
			if size > cc.end-pos || end > cc.end {
				return nil, fmt.Errorf("page at %d of %d bytes runs past its column chunk's end %d", pos, size, cc.end)
			}
			// Whether a group of small pages may end here is decided
			// by the page's header alone (sizes, counts, statistics):
			// a pure function of the page, as FastCDC's cut test is
			// of the bytes before it.
			pages = append(pages, page{off: pos, len: end - pos, anchor: xxh3.Hash(b[:h])&anchorMask == 0})
			seen++
			if end-pos < readAhead/16 {
				small++
			}
			pos = end
			break
		}
	}
	return pages, nil
}

// readAhead is the block read at once while a column chunk's pages are
// mostly small.
const readAhead = 256 << 10

// soloDiv: a page of at least Min/soloDiv bytes (2 KiB by default) is a
// chunk of its own, small enough for a changed page to cost little, large
// enough for its index entry to cost little.
const soloDiv = 8

// anchorMask makes one page in four an anchor.
const anchorMask = 3

// builder collects spans in file order.
type builder struct {
	spans         []Span
	min, avg, max int64
}

func (b *builder) add(s Span) {
	if s.Len > 0 {
		b.spans = append(b.spans, s)
	}
}

// gap adds bytes outside any column chunk, cut with FastCDC.
func (b *builder) gap(from, to int64) {
	b.add(Span{Off: from, Len: to - from, CDC: true})
}

// pages adds a column chunk's pages. A page above the average chunk size
// is cut inside by FastCDC, which starts afresh at the page, so the page is
// the same chunks wherever it sits, and a row changed late in a page leaves
// its first chunks shared (a whole-page chunk would be new: on scattered
// updates this stored a fifth less than whole pages, and less than FastCDC
// over the whole file). A page of at least Min/soloDiv bytes is a chunk of
// its own: a changed row then costs its page and no neighbours (with the
// content-defined pages of internal/table/parquet/cdcwrite, a few KiB of
// zstd, where a group of them would be four times that or more). Smaller
// pages are grouped, a group ending after an anchor page once it holds the
// minimum chunk size, or where the next page would take it past the
// maximum.
func (b *builder) pages(pages []page) {
	var group Span
	flush := func() {
		b.add(group)
		group = Span{}
	}
	for _, p := range pages {
		if p.len > b.avg {
			flush()
			b.add(Span{Off: p.off, Len: p.len, CDC: true})
			continue
		}
		if p.len >= b.min/soloDiv {
			flush()
			b.add(Span{Off: p.off, Len: p.len})
			continue
		}
		if group.Len+p.len > b.max {
			flush()
		}
		if group.Len == 0 {
			group.Off = p.off
		}
		group.Len += p.len
		if group.Len >= b.min && p.anchor {
			flush()
		}
	}
	flush()
}
