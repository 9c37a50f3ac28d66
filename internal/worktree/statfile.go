package worktree

// The stat cache's file, .dx/statcache: every entry sorted by path, in
// blocks that each carry their own checksum, and at the end a sparse index
// of each block's first path. A lookup reads only the blocks that may hold
// its paths (one path: one block), a merge walk reads them all in a few
// large reads, and a write rewrites the file whole into a temporary file
// renamed into place, as git rewrites its index. Apart from badger, a
// commit of many files writes its stat entries without contending with
// the index writes of its packs.
//
// Layout:
//
//	header   "DXSTAT\x00\x01"
//	blocks   up to statBlockEntries entries each: uvarint(len(path)) path
//	         uvarint(len(value)) value, in path order
//	index    "DXSI" uvarint(blocks), then per block: uvarint(len(first
//	         path)) first path, uvarint(length), uvarint(entries),
//	         xxh3-64 of the block (8 bytes LE)
//	trailer  index offset u64 LE, xxh3-64 of the index u64 LE
//
// A file that does not decode, or a block whose checksum fails, is a cache
// miss, never a wrong entry.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/zeebo/xxh3"

	"github.com/dxdata/dx/store"
)

// statFileName is the stat cache's file in the store's directory.
const statFileName = "statcache"

// statBlockEntries bounds a block: a one-path lookup reads one block of
// this many entries (about 20 KiB).
const statBlockEntries = 256

// statReadRun bounds one read of consecutive blocks.
const statReadRun = 4 << 20

var (
	statMagic      = []byte("DXSTAT\x00\x01")
	statIndexMagic = []byte("DXSI")
)

const statTrailerSize = 16

// errStatFile marks a stat cache file that does not decode.
var errStatFile = fmt.Errorf("stat cache file: %w", store.ErrCorrupt)

// statBlock is one block as the index describes it.
type statBlock struct {
	first  string
	off    int64
	length int64
	count  int
	sum    uint64
}

// statFile is an open stat cache file and its index.
type statFile struct {
	f      *os.File
	r      io.ReaderAt // f (a test counts its reads)
	blocks []statBlock
}

// openStatFile opens the stat cache file in dir; nil and no error if there
// is none, errStatFile if it does not decode.
func openStatFile(dir string) (*statFile, error) {
	f, err := os.Open(filepath.Join(dir, statFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	sf := &statFile{f: f, r: f}
	if err := sf.readIndex(); err != nil {
		f.Close()
		return nil, err
	}
	return sf, nil
}

func (sf *statFile) close() { sf.f.Close() }

// readIndex reads and checks the header, trailer and index.
func (sf *statFile) readIndex() error {
	fi, err := sf.f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	head := int64(len(statMagic))
	if size < head+statTrailerSize {
		return errStatFile
	}
	var tr [statTrailerSize]byte
	if _, err := sf.r.ReadAt(tr[:], size-statTrailerSize); err != nil {
		return err
	}
	ixOff := int64(binary.LittleEndian.Uint64(tr[0:]))
	if ixOff < head || ixOff > size-statTrailerSize {
		return errStatFile
	}
	buf := make([]byte, size-statTrailerSize-ixOff)
	if _, err := sf.r.ReadAt(buf, ixOff); err != nil {
		return err
	}
	if xxh3.Hash(buf) != binary.LittleEndian.Uint64(tr[8:]) {
		return errStatFile
	}
	var magic [8]byte
	if _, err := sf.r.ReadAt(magic[:], 0); err != nil || !bytes.Equal(magic[:], statMagic) {
		return errStatFile
	}
	if !bytes.HasPrefix(buf, statIndexMagic) {
		return errStatFile
	}
	r := &byteReader{b: buf[len(statIndexMagic):]}
	n := r.uvarint()
	if n > uint64(len(buf)) {
		return errStatFile
	}
	sf.blocks = make([]statBlock, 0, n)
	off := head
	for range n {
		first := r.bytes()
		length, count := int64(r.uvarint()), int(r.uvarint())
		sum := r.u64()
		if r.bad || length <= 0 || length > ixOff-off || count <= 0 || count > statBlockEntries ||
			(len(sf.blocks) > 0 && string(first) <= sf.blocks[len(sf.blocks)-1].first) {
			return errStatFile
		}
		sf.blocks = append(sf.blocks, statBlock{first: string(first), off: off, length: length, count: count, sum: sum})
		off += length
	}
	if r.bad || len(r.b) != 0 || off != ixOff {
		return errStatFile
	}
	return nil
}

// blockOf returns the index of the block that would hold path, -1 if it
// sorts before every block.
func (sf *statFile) blockOf(path string) int {
	return sort.Search(len(sf.blocks), func(i int) bool { return sf.blocks[i].first > path }) - 1
}

// readBlocks reads the blocks of want (ascending indexes), in runs of
// consecutive blocks, and calls fn with each block's entries; a block
// whose checksum fails is skipped (a miss).
func (sf *statFile) readBlocks(want []int, fn func(b int, ents []statRaw) error) error {
	var buf []byte
	var ents []statRaw
	for i := 0; i < len(want); {
		j := i + 1
		first := sf.blocks[want[i]]
		end := first.off + first.length
		for j < len(want) && want[j] == want[j-1]+1 && sf.blocks[want[j]].off+sf.blocks[want[j]].length-first.off <= statReadRun {
			end = sf.blocks[want[j]].off + sf.blocks[want[j]].length
			j++
		}
		if int64(cap(buf)) < end-first.off {
			buf = make([]byte, end-first.off)
		}
		buf = buf[:end-first.off]
		if _, err := sf.r.ReadAt(buf, first.off); err != nil {
			return err
		}
		for _, b := range want[i:j] {
			blk := sf.blocks[b]
			data := buf[blk.off-first.off : blk.off-first.off+blk.length]
			var ok bool
			if ents, ok = parseStatBlock(data, blk, ents[:0]); !ok {
				continue
			}
			if err := fn(b, ents); err != nil {
				return err
			}
		}
		i = j
	}
	return nil
}

// statRaw is one entry of a block: its path and encoded StatEntry, in the
// block's bytes.
type statRaw struct{ path, value []byte }

// parseStatBlock checks a block's checksum and splits it into entries.
func parseStatBlock(data []byte, blk statBlock, ents []statRaw) ([]statRaw, bool) {
	if xxh3.Hash(data) != blk.sum {
		return nil, false
	}
	r := &byteReader{b: data}
	for range blk.count {
		p, v := r.bytes(), r.bytes()
		if r.bad || (len(ents) > 0 && string(p) <= string(ents[len(ents)-1].path)) {
			return nil, false
		}
		ents = append(ents, statRaw{p, v})
	}
	if len(r.b) != 0 || string(ents[0].path) != blk.first {
		return nil, false
	}
	return ents, true
}

// lookup calls fn with the index and value of each of paths (sorted
// ascending) the file holds, reading only the blocks that may hold them.
func (sf *statFile) lookup(paths []string, fn func(i int, value []byte)) error {
	var want []int
	for _, p := range paths {
		if b := sf.blockOf(p); b >= 0 && (len(want) == 0 || want[len(want)-1] != b) {
			want = append(want, b)
		}
	}
	i := 0
	return sf.readBlocks(want, func(_ int, ents []statRaw) error {
		k := 0
		for ; i < len(paths); i++ {
			for k < len(ents) && string(ents[k].path) < paths[i] {
				k++
			}
			if k == len(ents) {
				break
			}
			if string(ents[k].path) == paths[i] {
				fn(i, ents[k].value)
			}
		}
		return nil
	})
}

// each calls fn with every entry in path order.
func (sf *statFile) each(fn func(path, value []byte) error) error {
	want := make([]int, len(sf.blocks))
	for i := range want {
		want[i] = i
	}
	return sf.readBlocks(want, func(_ int, ents []statRaw) error {
		for _, e := range ents {
			if err := fn(e.path, e.value); err != nil {
				return err
			}
		}
		return nil
	})
}

// statWriter writes a stat cache file: entries in ascending path order,
// then finish.
type statWriter struct {
	f      *os.File
	w      *bufio.Writer
	off    int64
	block  []byte
	first  []byte
	count  int
	last   []byte
	index  []byte
	blocks uint64
	err    error
}

// newStatWriter starts a stat cache file in a temporary file of ix.
func newStatWriter(ix Index) (*statWriter, error) {
	f, err := ix.CreateTemp("statcache-*.tmp")
	if err != nil {
		return nil, err
	}
	sw := &statWriter{f: f, w: bufio.NewWriterSize(f, 256<<10)}
	sw.write(statMagic)
	return sw, nil
}

func (sw *statWriter) write(b []byte) {
	if sw.err == nil {
		_, sw.err = sw.w.Write(b)
		sw.off += int64(len(b))
	}
}

// add appends an entry; paths must come in strictly ascending order.
func (sw *statWriter) add(path, value []byte) {
	if sw.err != nil {
		return
	}
	if sw.last != nil && string(path) <= string(sw.last) {
		sw.err = fmt.Errorf("stat cache: %q after %q", path, sw.last)
		return
	}
	sw.last = append(sw.last[:0], path...)
	if sw.count == 0 {
		sw.first = append(sw.first[:0], path...)
	}
	sw.block = binary.AppendUvarint(sw.block, uint64(len(path)))
	sw.block = append(sw.block, path...)
	sw.block = binary.AppendUvarint(sw.block, uint64(len(value)))
	sw.block = append(sw.block, value...)
	if sw.count++; sw.count == statBlockEntries {
		sw.endBlock()
	}
}

func (sw *statWriter) endBlock() {
	if sw.count == 0 {
		return
	}
	sw.index = binary.AppendUvarint(sw.index, uint64(len(sw.first)))
	sw.index = append(sw.index, sw.first...)
	sw.index = binary.AppendUvarint(sw.index, uint64(len(sw.block)))
	sw.index = binary.AppendUvarint(sw.index, uint64(sw.count))
	sw.index = binary.LittleEndian.AppendUint64(sw.index, xxh3.Hash(sw.block))
	sw.blocks++
	sw.write(sw.block)
	sw.block, sw.count = sw.block[:0], 0
}

// finish writes the index and trailer and renames the file into place
// (synced first, with its directory after, when durable).
func (sw *statWriter) finish(dir string, durable bool) error {
	sw.endBlock()
	ix := binary.AppendUvarint(append([]byte(nil), statIndexMagic...), sw.blocks)
	ix = append(ix, sw.index...)
	ixOff := sw.off
	sw.write(ix)
	var tr [statTrailerSize]byte
	binary.LittleEndian.PutUint64(tr[0:], uint64(ixOff))
	binary.LittleEndian.PutUint64(tr[8:], xxh3.Hash(ix))
	sw.write(tr[:])
	err := sw.err
	if err == nil {
		err = sw.w.Flush()
	}
	if err == nil && durable {
		err = sw.f.Sync()
	}
	if cerr := sw.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(sw.f.Name(), filepath.Join(dir, statFileName))
	}
	if err == nil && durable {
		err = store.SyncDir(dir)
	}
	if err != nil {
		os.Remove(sw.f.Name())
	}
	return err
}

// abort removes the unfinished file.
func (sw *statWriter) abort() {
	sw.f.Close()
	os.Remove(sw.f.Name())
}

// byteReader decodes the file's fields; bad sticks once one fails.
type byteReader struct {
	b   []byte
	bad bool
}

func (r *byteReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *byteReader) bytes() []byte {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) {
		r.bad = true
		return nil
	}
	b := r.b[:n:n]
	r.b = r.b[n:]
	return b
}

func (r *byteReader) u64() uint64 {
	if len(r.b) < 8 {
		r.bad = true
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}
