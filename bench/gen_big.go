package main

// The big-file generator: one file of mixed text and binary blocks.

import (
	"io"
	"math/rand/v2"
)

// bigBlock is the size of the big file's blocks, each of one kind of content.
const bigBlock = 1 << 20

// WriteBig streams a single file of exactly size bytes: 1 MiB blocks, half
// CSV text, a quarter random binary, a quarter partly compressible binary.
func WriteBig(w io.Writer, seed uint64, size int64) error {
	r := rand.New(rand.NewPCG(seed^keyBig, 2))
	g := newRowGen(seed ^ keyBig)
	blk := make([]byte, 0, bigBlock+512)
	var id int64
	for written := int64(0); written < size; {
		n := int(min(int64(bigBlock), size-written))
		switch r.IntN(4) {
		case 0, 1:
			blk = blk[:0]
			for len(blk) < n {
				id++
				v := g.draw(id)
				blk = appendRow(blk, id, &v)
			}
		case 2:
			blk = blk[:n]
			fillRandom(r, blk)
		default:
			blk = blk[:n]
			fillMixedBinary(r, blk)
		}
		if _, err := w.Write(blk[:n]); err != nil {
			return err
		}
		written += int64(n)
	}
	return nil
}
