package dag

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// FormatVersion is the leading byte of every encoded metadata object.
const FormatVersion = 1

// Limits enforced by every decoder. They bound memory use on hostile input.
const (
	MaxNodeEntries = 1 << 16  // entries in one sequence node
	MaxNameLen     = 4096     // bytes in one tree entry name
	MaxChunkLen    = 16 << 20 // bytes in one chunk
	MaxLevel       = 16       // height of a Merkle sequence
	MaxParents     = 1 << 10  // parents of one commit
	MaxStringLen   = 1 << 20  // author, message, metadata values
	MaxMetaEntries = 1 << 12  // metadata keys of one commit or model
)

// ErrCorrupt is wrapped by every decoding error: the bytes are not a valid
// encoding of the expected object kind.
var ErrCorrupt = errors.New("corrupt object")

func corrupt(what string, args ...any) error {
	return fmt.Errorf("dag: %s: %w", fmt.Sprintf(what, args...), ErrCorrupt)
}

// enc is an append-only encoder.
type enc struct{ b []byte }

func (e *enc) byte(v byte)      { e.b = append(e.b, v) }
func (e *enc) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) id(v ID)          { e.b = append(e.b, v[:]...) }
func (e *enc) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }

// dec is a strict, bounds-checked decoder. The first error sticks.
type dec struct {
	b    []byte
	err  error
	kind string
}

func (d *dec) fail(what string, args ...any) {
	if d.err == nil {
		d.err = corrupt(d.kind+": "+what, args...)
	}
}

func (d *dec) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 1 {
		d.fail("truncated")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *dec) uvarint(max uint64, what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint for %s", what)
		return 0
	}
	// Canonical: reject non-minimal encodings.
	if n != len(binary.AppendUvarint(nil, v)) {
		d.fail("non-canonical varint for %s", what)
		return 0
	}
	if v > max {
		d.fail("%s %d exceeds limit %d", what, v, max)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) varint(what string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint for %s", what)
		return 0
	}
	if n != len(binary.AppendVarint(nil, v)) {
		d.fail("non-canonical varint for %s", what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) id() ID {
	var v ID
	if d.err != nil {
		return v
	}
	if len(d.b) < IDSize {
		d.fail("truncated id")
		return v
	}
	copy(v[:], d.b)
	d.b = d.b[IDSize:]
	return v
}

func (d *dec) str(max int, what string) string {
	n := d.uvarint(uint64(max), what+" length")
	if d.err != nil {
		return ""
	}
	if uint64(len(d.b)) < n {
		d.fail("truncated %s", what)
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *dec) header() {
	if v := d.byte(); d.err == nil && v != FormatVersion {
		d.fail("unknown format version %d", v)
	}
}

func (d *dec) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	return d.err
}

// metaMap encodes a string map in sorted key order.
func encodeMeta(e *enc, keys []string, m map[string]string) {
	e.uvarint(uint64(len(keys)))
	for _, k := range keys {
		e.str(k)
		e.str(m[k])
	}
}

func decodeMeta(d *dec) map[string]string {
	n := d.uvarint(MaxMetaEntries, "metadata count")
	if d.err != nil || n == 0 {
		return nil
	}
	m := make(map[string]string, n)
	prev := ""
	for i := uint64(0); i < n && d.err == nil; i++ {
		k := d.str(MaxStringLen, "metadata key")
		v := d.str(MaxStringLen, "metadata value")
		if d.err != nil {
			break
		}
		if k == "" || (i > 0 && k <= prev) {
			d.fail("metadata keys not sorted and unique")
			break
		}
		prev = k
		m[k] = v
	}
	return m
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}

func checkU32(v uint64) bool { return v <= math.MaxUint32 }
