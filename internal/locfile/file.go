package locfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/pack"
	"github.com/zeebo/blake3"
)

// File is an open location file. Its methods are safe for concurrent use
// until Close.
type File struct {
	data    []byte // the whole file
	n       int    // entries
	packs   []dag.ID
	fanout  [257]uint32 // fanout[b] = entries whose ID's first byte < b
	release func() error
}

// Open opens the location file at path, mapped into memory where the
// platform allows, and checks its shape (not its checksum: Verify).
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("locfile: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("locfile: %w", err)
	}
	if st.Size() < headerSize+fanoutSize+trailerSize {
		return nil, fmt.Errorf("%s: %w", path, corrupt("%d bytes", st.Size()))
	}
	data, release, err := mapFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("locfile: %s: %w", path, err)
	}
	lf, err := parse(data)
	if err != nil {
		_ = release()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	lf.release = release
	return lf, nil
}

// Parse reads a location file held in b, which the File uses in place.
func Parse(b []byte) (*File, error) {
	f, err := parse(b)
	if err != nil {
		return nil, err
	}
	f.release = func() error { return nil }
	return f, nil
}

func parse(b []byte) (*File, error) {
	if len(b) < headerSize+fanoutSize+trailerSize {
		return nil, corrupt("%d bytes", len(b))
	}
	tr := b[len(b)-trailerSize:]
	if !bytes.Equal(b[:headerSize], headerMagic) || !bytes.Equal(tr[48:], trailerMagic) {
		return nil, corrupt("bad magic")
	}
	n := binary.LittleEndian.Uint64(tr[0:])
	p := uint64(binary.LittleEndian.Uint32(tr[8:]))
	if binary.LittleEndian.Uint32(tr[12:]) != 0 {
		return nil, corrupt("reserved field set")
	}
	// n and p are bounded before they are multiplied.
	body := uint64(len(b) - headerSize - fanoutSize - trailerSize)
	if n > MaxEntries || n > body/entrySize || p > (body-n*entrySize)/dag.IDSize || n*entrySize+p*dag.IDSize != body {
		return nil, corrupt("%d entries and %d packs in %d bytes", n, p, len(b))
	}
	if (n == 0) != (p == 0) || p > n {
		return nil, corrupt("%d entries name %d packs", n, p)
	}
	f := &File{data: b, n: int(n), packs: make([]dag.ID, p)}
	packsAt := headerSize + int(n)*entrySize
	for i := range f.packs {
		copy(f.packs[i][:], b[packsAt+i*dag.IDSize:])
	}
	fan := b[packsAt+int(p)*dag.IDSize:]
	for i := range 256 {
		c := binary.LittleEndian.Uint32(fan[4*i:])
		if c < f.fanout[i] || uint64(c) > n {
			return nil, corrupt("fanout not increasing")
		}
		f.fanout[i+1] = c
	}
	if uint64(f.fanout[256]) != n {
		return nil, corrupt("fanout counts %d of %d entries", f.fanout[256], n)
	}
	return f, nil
}

// Len is the number of entries.
func (f *File) Len() int { return f.n }

// Packs are the packs the entries name. Do not modify.
func (f *File) Packs() []dag.ID { return f.packs }

// id is the ID of entry i (0 ≤ i < Len).
func (f *File) id(i int) []byte {
	o := headerSize + i*entrySize
	return f.data[o : o+dag.IDSize]
}

// At decodes entry i (0 ≤ i < Len).
func (f *File) At(i int) (Entry, error) {
	if i < 0 || i >= f.n {
		return Entry{}, fmt.Errorf("locfile: entry %d of %d", i, f.n)
	}
	b := f.data[headerSize+i*entrySize:][:entrySize]
	var e Entry
	copy(e.ID[:], b)
	idx := binary.LittleEndian.Uint32(b[32:])
	if uint64(idx) >= uint64(len(f.packs)) {
		return Entry{}, corrupt("entry %s names pack %d of %d", e.ID.Short(), idx, len(f.packs))
	}
	if b[38] != 0 || b[39] != 0 {
		return Entry{}, corrupt("entry %s: reserved field set", e.ID.Short())
	}
	e.Pack = f.packs[idx]
	e.Kind, e.Codec = dag.Kind(b[36]), pack.Codec(b[37])
	e.Offset = binary.LittleEndian.Uint64(b[40:])
	e.Stored = binary.LittleEndian.Uint32(b[48:])
	e.Raw = binary.LittleEndian.Uint32(b[52:])
	if err := e.valid(); err != nil {
		return Entry{}, corrupt("entry %s: %v", e.ID.Short(), err)
	}
	return e, nil
}

// Search returns the index of the first entry whose ID is not less than
// prefix (Len if there is none).
func (f *File) Search(prefix []byte) int {
	if len(prefix) == 0 {
		return 0
	}
	lo, hi := int(f.fanout[prefix[0]]), int(f.fanout[int(prefix[0])+1])
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if bytes.Compare(f.id(m), prefix) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// Find returns the entry of id, if the file has one.
func (f *File) Find(id dag.ID) (Entry, bool, error) {
	i := f.Search(id[:])
	if i == f.n || !bytes.Equal(f.id(i), id[:]) {
		return Entry{}, false, nil
	}
	e, err := f.At(i)
	return e, err == nil, err
}

// Verify reads the whole file: its checksum, the order of its IDs, their
// fanout, and every entry.
func (f *File) Verify() error {
	sumAt := len(f.data) - trailerSize + 16
	want := f.data[sumAt : sumAt+32]
	if got := blake3.Sum256(f.data[:sumAt]); !bytes.Equal(got[:], want) {
		return corrupt("checksum mismatch")
	}
	var counts [256]uint32
	for i := range f.n {
		if i > 0 && bytes.Compare(f.id(i-1), f.id(i)) >= 0 {
			return corrupt("entry %d out of order", i)
		}
		if _, err := f.At(i); err != nil {
			return err
		}
		counts[f.id(i)[0]]++
	}
	for b, c := range counts {
		if f.fanout[b+1]-f.fanout[b] != c {
			return corrupt("fanout of %02x: %d entries, file has %d", b, f.fanout[b+1]-f.fanout[b], c)
		}
	}
	return nil
}

// Close releases the file's memory. The File must not be used after.
func (f *File) Close() error {
	r := f.release
	f.release, f.data, f.n, f.fanout = nil, nil, 0, [257]uint32{}
	if r == nil {
		return nil
	}
	return r()
}
