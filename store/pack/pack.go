// Package pack reads and writes pack files: immutable files holding many
// stored (possibly compressed) objects followed by an index of them.
//
// Layout:
//
//	header   "DXPACK\x00\x01"                       8 bytes
//	blobs    stored bytes of each object, contiguous, in index order
//	footer   "DXIX\x01" uvarint(count) then per entry:
//	         id[32] kind[1] codec[1] uvarint(offset) uvarint(stored) uvarint(raw)
//	trailer  footer offset u64 LE, footer length u32 LE, count u32 LE,
//	         BLAKE3-256 of the footer [32]              48 bytes
//
// A pack's name is the plain BLAKE3-256 of the whole file, so a pack can be
// verified without the index that points into it, and a pack written twice
// with the same content has the same name. Decoding is strict: every field
// is bounded and checked, varints must be minimal, and blobs must tile the
// space between header and footer exactly; anything else is ErrCorrupt.
package pack

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/dxdata/dx/dag"
	"github.com/zeebo/blake3"
)

// Sizes of the fixed parts.
const (
	HeaderSize  = 8
	TrailerSize = 48
	// MaxBlob bounds the stored and raw size of one object.
	MaxBlob = 64 << 20
	// MaxEntries bounds the number of objects in one pack.
	MaxEntries = 1 << 24
	// MaxIndexSize bounds the length of an index (a pack's footer): the
	// magic and count, then MaxEntries entries of at most 67 bytes.
	MaxIndexSize = MaxEntries*(minEntrySize+30) + 16
)

var (
	headerMagic = []byte("DXPACK\x00\x01")
	footerMagic = []byte("DXIX\x01")
)

// minEntrySize is the smallest encoding of one index entry.
const minEntrySize = dag.IDSize + 2 + 3

// ErrCorrupt is returned for a pack or index that does not decode.
var ErrCorrupt = errors.New("corrupt pack")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// Codec says how an object's bytes are stored.
type Codec uint8

// Codecs. Values are persisted.
const (
	CodecRaw  Codec = 0
	CodecZstd Codec = 1
)

func (c Codec) String() string {
	switch c {
	case CodecRaw:
		return "raw"
	case CodecZstd:
		return "zstd"
	}
	return fmt.Sprintf("codec(%d)", uint8(c))
}

// Valid reports whether c is a known codec.
func (c Codec) Valid() bool { return c <= CodecZstd }

// Entry locates one object in a pack.
type Entry struct {
	ID     dag.ID
	Kind   dag.Kind
	Codec  Codec
	Offset uint64 // of the stored bytes, from the start of the pack
	Stored uint32 // stored length
	Raw    uint32 // length after decoding
}

// Writer writes one pack. It is not safe for concurrent use.
type Writer struct {
	w       io.Writer
	h       *blake3.Hasher
	off     uint64
	entries []Entry
	ids     map[dag.ID]struct{}
	done    bool
}

// NewWriter writes the pack header to w and returns a Writer.
func NewWriter(w io.Writer) (*Writer, error) {
	pw := &Writer{w: w, h: blake3.New(), ids: map[dag.ID]struct{}{}}
	if err := pw.write(headerMagic); err != nil {
		return nil, err
	}
	return pw, nil
}

// Expect makes room for n objects up front (a hint: more may be added).
func (w *Writer) Expect(n int) {
	if n > cap(w.entries) {
		w.entries = slices.Grow(w.entries, n-len(w.entries))
	}
}

// AssumeUnique tells w that its caller never adds an ID twice (the
// store's claims see to it), so Add skips its own check, a map lookup and
// insert for each object. A pack with a repeated ID would still be refused
// by ReadIndex.
func (w *Writer) AssumeUnique() { w.ids = nil }

func (w *Writer) write(b []byte) error {
	if _, err := w.w.Write(b); err != nil {
		return fmt.Errorf("pack: write: %w", err)
	}
	_, _ = w.h.Write(b)
	w.off += uint64(len(b))
	return nil
}

// Add appends an object's stored bytes; raw is its decoded length.
func (w *Writer) Add(id dag.ID, kind dag.Kind, codec Codec, stored []byte, raw int) (Entry, error) {
	return w.add(id, kind, codec, stored, raw, true)
}

// Appended records an object whose stored bytes the caller has already
// written to the Writer's destination, right after everything written
// before them (compressed there in place, saving a copy). It is Add
// without the write.
func (w *Writer) Appended(id dag.ID, kind dag.Kind, codec Codec, stored []byte, raw int) (Entry, error) {
	return w.add(id, kind, codec, stored, raw, false)
}

func (w *Writer) add(id dag.ID, kind dag.Kind, codec Codec, stored []byte, raw int, write bool) (Entry, error) {
	switch {
	case w.done:
		return Entry{}, errors.New("pack: add after finish")
	case !kind.Valid():
		return Entry{}, fmt.Errorf("pack: invalid kind %d", kind)
	case !codec.Valid():
		return Entry{}, fmt.Errorf("pack: invalid codec %d", codec)
	case len(stored) > MaxBlob || raw > MaxBlob || raw < 0:
		return Entry{}, fmt.Errorf("pack: object %s too large (%d stored, %d raw)", id.Short(), len(stored), raw)
	case codec == CodecRaw && len(stored) != raw:
		return Entry{}, fmt.Errorf("pack: raw object %s: %d stored bytes, %d raw", id.Short(), len(stored), raw)
	case len(w.entries) >= MaxEntries:
		return Entry{}, errors.New("pack: too many objects")
	}
	if _, dup := w.ids[id]; dup {
		return Entry{}, fmt.Errorf("pack: duplicate object %s", id.Short())
	}
	e := Entry{ID: id, Kind: kind, Codec: codec, Offset: w.off, Stored: uint32(len(stored)), Raw: uint32(raw)}
	if write {
		if err := w.write(stored); err != nil {
			return Entry{}, err
		}
	} else {
		_, _ = w.h.Write(stored)
		w.off += uint64(len(stored))
	}
	if w.ids != nil {
		w.ids[id] = struct{}{}
	}
	w.entries = append(w.entries, e)
	return e, nil
}

// Size is the number of bytes written so far.
func (w *Writer) Size() int64 { return int64(w.off) }

// Count is the number of objects added.
func (w *Writer) Count() int { return len(w.entries) }

// Entries returns the objects added so far, in order. Do not modify.
func (w *Writer) Entries() []Entry { return w.entries }

// Finish writes the footer and trailer. It returns the pack's ID and the
// encoded footer (the index), which DecodeIndex reads.
func (w *Writer) Finish() (dag.ID, []byte, error) {
	if w.done {
		return dag.ZeroID, nil, errors.New("pack: finish twice")
	}
	w.done = true
	footer := EncodeIndex(w.entries)
	footerOff := w.off
	if err := w.write(footer); err != nil {
		return dag.ZeroID, nil, err
	}
	var tr [TrailerSize]byte
	binary.LittleEndian.PutUint64(tr[0:], footerOff)
	binary.LittleEndian.PutUint32(tr[8:], uint32(len(footer)))
	binary.LittleEndian.PutUint32(tr[12:], uint32(len(w.entries)))
	sum := blake3.Sum256(footer)
	copy(tr[16:], sum[:])
	if err := w.write(tr[:]); err != nil {
		return dag.ZeroID, nil, err
	}
	var id dag.ID
	w.h.Sum(id[:0])
	return id, footer, nil
}

// Size is the length of the pack a Writer makes of these objects, added
// in this order: header, stored bytes, footer and trailer. Only their
// stored lengths and IDs count; their offsets are recomputed.
func Size(objects []Entry) int64 {
	laid := make([]Entry, len(objects))
	off := uint64(HeaderSize)
	for i, e := range objects {
		laid[i] = e
		laid[i].Offset = off
		off += uint64(e.Stored)
	}
	return int64(off) + int64(len(EncodeIndex(laid))) + TrailerSize
}

// EncodeIndex encodes entries as a pack footer.
func EncodeIndex(entries []Entry) []byte {
	b := make([]byte, 0, len(footerMagic)+binary.MaxVarintLen64+len(entries)*(dag.IDSize+2+12))
	b = append(b, footerMagic...)
	b = binary.AppendUvarint(b, uint64(len(entries)))
	for _, e := range entries {
		b = append(b, e.ID[:]...)
		b = append(b, byte(e.Kind), byte(e.Codec))
		b = binary.AppendUvarint(b, e.Offset)
		b = binary.AppendUvarint(b, uint64(e.Stored))
		b = binary.AppendUvarint(b, uint64(e.Raw))
	}
	return b
}

// uvarint decodes a minimal uvarint no larger than max.
func uvarint(b []byte, max uint64) (uint64, int, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, 0, corrupt("bad varint")
	}
	if n > 1 && b[n-1] == 0 {
		return 0, 0, corrupt("non-minimal varint")
	}
	if v > max {
		return 0, 0, corrupt("value %d out of range", v)
	}
	return v, n, nil
}

// DecodeIndex decodes a footer. Entries must tile the blob area from the
// header on, in order, with no gaps and no duplicate IDs.
func DecodeIndex(b []byte) ([]Entry, error) {
	if !bytes.HasPrefix(b, footerMagic) {
		return nil, corrupt("bad index magic")
	}
	p := len(footerMagic)
	count, n, err := uvarint(b[p:], MaxEntries)
	if err != nil {
		return nil, err
	}
	p += n
	if count > uint64(len(b)-p)/minEntrySize {
		return nil, corrupt("index claims %d entries in %d bytes", count, len(b)-p)
	}
	entries := make([]Entry, count)
	ids := make(map[dag.ID]struct{}, count)
	next := uint64(HeaderSize)
	for i := range entries {
		e := &entries[i]
		if len(b)-p < dag.IDSize+2 {
			return nil, corrupt("index truncated at entry %d", i)
		}
		copy(e.ID[:], b[p:])
		p += dag.IDSize
		e.Kind, e.Codec = dag.Kind(b[p]), Codec(b[p+1])
		p += 2
		if !e.Kind.Valid() {
			return nil, corrupt("entry %d: invalid kind %d", i, e.Kind)
		}
		if !e.Codec.Valid() {
			return nil, corrupt("entry %d: invalid codec %d", i, e.Codec)
		}
		var vals [3]uint64
		for j, max := range [3]uint64{1 << 62, MaxBlob, MaxBlob} {
			v, n, err := uvarint(b[p:], max)
			if err != nil {
				return nil, fmt.Errorf("entry %d: %w", i, err)
			}
			vals[j] = v
			p += n
		}
		e.Offset, e.Stored, e.Raw = vals[0], uint32(vals[1]), uint32(vals[2])
		if e.Offset != next {
			return nil, corrupt("entry %d at offset %d, want %d", i, e.Offset, next)
		}
		if e.Codec == CodecRaw && e.Stored != e.Raw {
			return nil, corrupt("entry %d: raw object with %d stored and %d raw bytes", i, e.Stored, e.Raw)
		}
		if _, dup := ids[e.ID]; dup {
			return nil, corrupt("entry %d: duplicate object %s", i, e.ID.Short())
		}
		ids[e.ID] = struct{}{}
		next += uint64(e.Stored)
	}
	if p != len(b) {
		return nil, corrupt("%d trailing index bytes", len(b)-p)
	}
	return entries, nil
}

// blobEnd is where the blob area ends according to entries.
func blobEnd(entries []Entry) uint64 {
	if len(entries) == 0 {
		return HeaderSize
	}
	e := entries[len(entries)-1]
	return e.Offset + uint64(e.Stored)
}

// ReadIndex reads and checks the header, trailer and footer of a pack of
// the given size. It returns the entries and the raw footer.
func ReadIndex(r io.ReaderAt, size int64) ([]Entry, []byte, error) {
	if size < HeaderSize+int64(len(footerMagic))+1+TrailerSize {
		return nil, nil, corrupt("pack of %d bytes is too short", size)
	}
	var hdr [HeaderSize]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return nil, nil, fmt.Errorf("pack: read header: %w", err)
	}
	if !bytes.Equal(hdr[:], headerMagic) {
		return nil, nil, corrupt("bad header magic")
	}
	var tr [TrailerSize]byte
	if _, err := r.ReadAt(tr[:], size-TrailerSize); err != nil {
		return nil, nil, fmt.Errorf("pack: read trailer: %w", err)
	}
	off := binary.LittleEndian.Uint64(tr[0:])
	flen := uint64(binary.LittleEndian.Uint32(tr[8:]))
	count := binary.LittleEndian.Uint32(tr[12:])
	if off < HeaderSize || off > uint64(size) || flen != uint64(size)-TrailerSize-off {
		return nil, nil, corrupt("trailer: footer at %d+%d in a pack of %d bytes", off, flen, size)
	}
	if flen > MaxIndexSize {
		return nil, nil, corrupt("footer of %d bytes is too large", flen)
	}
	footer := make([]byte, flen)
	if _, err := r.ReadAt(footer, int64(off)); err != nil {
		return nil, nil, fmt.Errorf("pack: read footer: %w", err)
	}
	if blake3.Sum256(footer) != [32]byte(tr[16:48]) {
		return nil, nil, corrupt("footer checksum mismatch")
	}
	entries, err := DecodeIndex(footer)
	if err != nil {
		return nil, nil, err
	}
	if uint32(len(entries)) != count {
		return nil, nil, corrupt("trailer counts %d objects, index %d", count, len(entries))
	}
	if end := blobEnd(entries); end != off {
		return nil, nil, corrupt("blobs end at %d, footer starts at %d", end, off)
	}
	return entries, footer, nil
}

// ReadBlob reads the stored bytes of e.
func ReadBlob(r io.ReaderAt, e Entry) ([]byte, error) {
	return ReadBlobInto(r, e, nil)
}

// ReadBlobInto is ReadBlob that reads into buf's storage when it is big
// enough.
func ReadBlobInto(r io.ReaderAt, e Entry, buf []byte) ([]byte, error) {
	if e.Stored > MaxBlob {
		return nil, corrupt("object %s: %d stored bytes", e.ID.Short(), e.Stored)
	}
	b := buf[:0]
	if cap(b) < int(e.Stored) {
		b = make([]byte, e.Stored)
	}
	b = b[:e.Stored]
	if _, err := r.ReadAt(b, int64(e.Offset)); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, corrupt("object %s: pack truncated", e.ID.Short())
		}
		return nil, fmt.Errorf("pack: read object %s: %w", e.ID.Short(), err)
	}
	return b, nil
}

// PackID returns the ID a pack with these bytes has: BLAKE3-256 of all of it.
func PackID(r io.Reader) (dag.ID, error) {
	h := blake3.New()
	if _, err := io.Copy(h, r); err != nil {
		return dag.ZeroID, fmt.Errorf("pack: hash: %w", err)
	}
	var id dag.ID
	h.Sum(id[:0])
	return id, nil
}
