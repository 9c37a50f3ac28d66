package locfile

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/pack"
)

// Sizes of the fixed parts.
const (
	headerSize  = 8
	entrySize   = 56
	fanoutSize  = 256 * 4
	trailerSize = 56
	// MaxEntries bounds the entries of one file (the fanout counts them
	// in 32 bits).
	MaxEntries = 1<<32 - 1
)

var (
	headerMagic  = []byte("DXLOC\x00\x00\x01")
	trailerMagic = []byte("DXLOCEND")
)

// ErrCorrupt is returned for a file that does not decode.
var ErrCorrupt = errors.New("corrupt location file")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// Entry says where one object is: in which pack, at which offset, and how
// it is stored there.
type Entry struct {
	ID     dag.ID
	Pack   dag.ID
	Kind   dag.Kind
	Codec  pack.Codec
	Offset uint64 // of the stored bytes, from the start of the pack
	Stored uint32 // stored length
	Raw    uint32 // length after decoding
}

// valid reports what is wrong with e's fields, if anything.
func (e Entry) valid() error {
	switch {
	case !e.Kind.Valid():
		return fmt.Errorf("invalid kind %d", e.Kind)
	case !e.Codec.Valid():
		return fmt.Errorf("invalid codec %d", e.Codec)
	case e.Stored > pack.MaxBlob || e.Raw > pack.MaxBlob:
		return fmt.Errorf("object of %d stored, %d raw bytes", e.Stored, e.Raw)
	case e.Codec == pack.CodecRaw && e.Stored != e.Raw:
		return fmt.Errorf("raw object of %d stored, %d raw bytes", e.Stored, e.Raw)
	}
	return nil
}

// putEntry encodes e, naming its pack by index, into b (entrySize bytes).
func putEntry(b []byte, e Entry, packIdx uint32) {
	copy(b, e.ID[:])
	binary.LittleEndian.PutUint32(b[32:], packIdx)
	b[36], b[37], b[38], b[39] = byte(e.Kind), byte(e.Codec), 0, 0
	binary.LittleEndian.PutUint64(b[40:], e.Offset)
	binary.LittleEndian.PutUint32(b[48:], e.Stored)
	binary.LittleEndian.PutUint32(b[52:], e.Raw)
}
