package locfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/dxdata/dx/dag"
	"github.com/zeebo/blake3"
)

// Encode lays out a whole location file of n entries, entry(i) being the
// i-th in strictly increasing ID order, in one buffer of the size alloc is
// asked for, and returns the file and its checksum: the bytes a Writer
// given the same entries writes. The entries are encoded on all cores and
// hashed in one call, which a commit of many objects waits for; a Writer
// streams, for files too big to hold (merges).
func Encode(n int, entry func(i int) *Entry, alloc func(size int) []byte) ([]byte, [32]byte, error) {
	var sum [32]byte
	if uint64(n) > MaxEntries {
		return nil, sum, errors.New("locfile: too many entries")
	}
	// Packs are numbered in the order entries first name them, as a
	// Writer numbers them.
	packIdx := make([]uint32, n)
	packs := map[dag.ID]uint32{}
	var order []dag.ID
	var fanout [256]uint32
	var last dag.ID
	for i := range n {
		e := entry(i)
		if i > 0 && bytes.Compare(e.ID[:], last[:]) <= 0 {
			return nil, sum, fmt.Errorf("locfile: entry %s out of order", e.ID.Short())
		}
		if err := e.valid(); err != nil {
			return nil, sum, fmt.Errorf("locfile: entry %s: %v", e.ID.Short(), err)
		}
		idx, ok := packs[e.Pack]
		if !ok {
			idx = uint32(len(order))
			packs[e.Pack] = idx
			order = append(order, e.Pack)
		}
		packIdx[i] = idx
		fanout[e.ID[0]]++
		last = e.ID
	}
	entriesEnd := headerSize + n*entrySize
	size := entriesEnd + len(order)*dag.IDSize + fanoutSize + trailerSize
	b := alloc(size)[:size]
	copy(b, headerMagic)
	parts := max(1, min(runtime.GOMAXPROCS(0), n/(64<<10)))
	var wg sync.WaitGroup
	for p := range parts {
		wg.Go(func() {
			for i := p * n / parts; i < (p+1)*n/parts; i++ {
				putEntry(b[headerSize+i*entrySize:], *entry(i), packIdx[i])
			}
		})
	}
	wg.Wait()
	off := entriesEnd
	for _, p := range order {
		off += copy(b[off:], p[:])
	}
	var total uint32
	for i, c := range fanout {
		total += c
		binary.LittleEndian.PutUint32(b[off+4*i:], total)
	}
	off += fanoutSize
	tr := b[off:]
	binary.LittleEndian.PutUint64(tr[0:], uint64(n))
	binary.LittleEndian.PutUint32(tr[8:], uint32(len(order)))
	binary.LittleEndian.PutUint32(tr[12:], 0)
	sum = blake3.Sum256(b[:off+16])
	copy(tr[16:48], sum[:])
	copy(tr[48:], trailerMagic)
	return b, sum, nil
}
