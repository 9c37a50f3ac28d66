package store

// Derived data too big for the index: values appended to files of their
// own, the index holding where each is.

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/dxdata/dx/internal/blockread"
	"github.com/zeebo/xxh3"
)

// derivedDir holds the files of DerivedFiles, a directory per prefix.
const derivedDir = "derived"

// DerivedFiles is a table of a caller's derived data whose values are too
// big for the index (kilobytes each, by the thousand): badger would keep
// them in its value log, in files of 1 MiB that every open of the index
// then opens, one read each, and that a read in key order visits at
// random. Here each writer appends its values to a file of its own under
// .dx/derived/, and the index holds, under the caller's prefix, each
// key's file, offset, length and hash; Get reads the values in file
// order, neighbours in one read. Like Derived it is a cache: writes are
// not synced, and a value whose file is gone or whose bytes do not hash
// as recorded is a miss, never a wrong value. Get and Put may be called
// from several goroutines; Close ends the writer's file.
type DerivedFiles struct {
	ix  Derived
	dir string

	mu   sync.Mutex
	file *os.File // the file Put appends to, created at the first Put
	name uint64   // its name
	size int64
	err  error // a write that failed: Put writes no more

	reads, bytes atomic.Int64 // file reads by Get, and the bytes of the values they gave
	bufs         sync.Pool    // of *[]byte: buffers Get reads runs into
}

// DerivedFiles returns the table of derived data in files whose index
// entries are under prefix (see Derived).
func (s *Store) DerivedFiles(prefix byte) (*DerivedFiles, error) {
	ix, err := s.Derived(prefix)
	if err != nil {
		return nil, err
	}
	return &DerivedFiles{ix: ix, dir: filepath.Join(s.dir, derivedDir, fmt.Sprintf("%02x", prefix))}, nil
}

// fileLoc is where a value is: its file, offset and length, and its
// xxh3 hash. Encoded, as the index entry's value: the file's name (8
// bytes), the offset and the length (uvarints), the hash (8 bytes).
type fileLoc struct {
	file        uint64
	off, length uint64
	sum         uint64
	i           int // the index fn is called with
}

func (l fileLoc) append(dst []byte) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, l.file)
	dst = binary.AppendUvarint(binary.AppendUvarint(dst, l.off), l.length)
	return binary.LittleEndian.AppendUint64(dst, l.sum)
}

func parseLoc(b []byte) (l fileLoc, ok bool) {
	if len(b) < 8 {
		return l, false
	}
	l.file, b = binary.LittleEndian.Uint64(b), b[8:]
	var n int
	if l.off, n = binary.Uvarint(b); n <= 0 {
		return l, false
	}
	b = b[n:]
	if l.length, n = binary.Uvarint(b); n <= 0 {
		return l, false
	}
	b = b[n:]
	if len(b) != 8 {
		return l, false
	}
	l.sum = binary.LittleEndian.Uint64(b)
	return l, true
}

func (d *DerivedFiles) path(file uint64) string {
	return filepath.Join(d.dir, fmt.Sprintf("%016x", file))
}

// readRun bounds one read of neighbouring values (and the gap a read
// spans between two of them).
const (
	readRun = 4 << 20
	readGap = 64 << 10
	// maxDerivedValue bounds a value's length: an entry longer is
	// corrupt.
	maxDerivedValue = 1 << 28
)

// Get calls fn with the value of each of keys that is set (valid only
// during fn), in the order of the files: each file's values read in
// runs of neighbours. A value unreadable is left out. The error is the
// index's.
func (d *DerivedFiles) Get(ctx context.Context, keys []string, fn func(i int, value []byte)) error {
	l, err := d.Locate(ctx, keys)
	if err != nil {
		return err
	}
	all := make([]int, len(keys))
	for i := range all {
		all[i] = i
	}
	return l.Get(ctx, all, fn)
}

// LocatedValues are keys looked up in the index, for their values to be read
// in parts (by several goroutines at once).
type LocatedValues struct {
	d    *DerivedFiles
	locs []fileLoc // by key; length 0: not set
}

// Locate looks keys up in the index, in one pass in key order.
func (d *DerivedFiles) Locate(ctx context.Context, keys []string) (*LocatedValues, error) {
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(keys[a], keys[b]) })
	sorted := make([]string, len(keys))
	for j, i := range order {
		sorted[j] = keys[i]
	}
	l := &LocatedValues{d: d, locs: make([]fileLoc, len(keys))}
	// In parts of the key order, on all cores.
	n := max(1, min(runtime.GOMAXPROCS(0), len(sorted)/locatePart))
	errs := make([]error, n)
	var wg sync.WaitGroup
	for p := range n {
		from, to := p*len(sorted)/n, (p+1)*len(sorted)/n
		wg.Go(func() {
			errs[p] = d.ix.GetSorted(ctx, sorted[from:to], func(j int, v []byte) {
				if loc, ok := parseLoc(v); ok && loc.length > 0 && loc.length <= maxDerivedValue {
					l.locs[order[from+j]] = loc
				}
			})
		})
	}
	wg.Wait()
	return l, errors.Join(errs...)
}

// locatePart is the fewest keys Locate looks up on a core of its own.
const locatePart = 4096

// Set says which of the keys are set in the index.
func (l *LocatedValues) Set() []bool {
	set := make([]bool, len(l.locs))
	for i, loc := range l.locs {
		set[i] = loc.length > 0
	}
	return set
}

// Get calls fn with the value of each key idx names (indices into the
// keys located) that is set, as DerivedFiles.Get does; j indexes idx.
func (l *LocatedValues) Get(ctx context.Context, idx []int, fn func(j int, value []byte)) error {
	locs := make([]fileLoc, 0, len(idx))
	for j, i := range idx {
		if loc := l.locs[i]; loc.length > 0 {
			loc.i = j
			locs = append(locs, loc)
		}
	}
	sortLocs(locs)
	bp, _ := l.d.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer l.d.bufs.Put(bp)
	for len(locs) > 0 {
		n := 1
		for n < len(locs) && locs[n].file == locs[0].file {
			n++
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		*bp = l.d.readFile(locs[:n], *bp, fn)
		locs = locs[n:]
	}
	return nil
}

// sortLocs sorts locations by file, then offset: the order readFile
// reads them in.
func sortLocs(locs []fileLoc) {
	slices.SortFunc(locs, func(a, b fileLoc) int {
		return cmp.Or(cmp.Compare(a.file, b.file), cmp.Compare(a.off, b.off))
	})
}

// readFile reads the values at locs, all in one file, sorted by offset.
func (d *DerivedFiles) readFile(locs []fileLoc, buf []byte, fn func(i int, value []byte)) []byte {
	path := d.path(locs[0].file)
	f, err := os.Open(path)
	if err != nil {
		return buf // gone: misses
	}
	defer f.Close()
	dr := d.direct(f, path)
	defer dr.Close()
	for len(locs) > 0 {
		start, end, n := locs[0].off, locs[0].off+locs[0].length, 1
		for n < len(locs) && locs[n].off >= end && locs[n].off-end <= readGap && locs[n].off+locs[n].length-start <= readRun {
			end = locs[n].off + locs[n].length
			n++
		}
		var b []byte
		if dr != nil {
			b, buf, _ = dr.Read(buf, int64(start), int(end-start)) // short: as below
		} else {
			if uint64(cap(buf)) < end-start {
				buf = make([]byte, end-start)
			}
			b = buf[:end-start]
			got, _ := f.ReadAt(b, int64(start)) // a short file: the values past its end are misses
			b = b[:got]
		}
		got := len(b)
		d.reads.Add(1)
		for _, l := range locs[:n] {
			if l.off+l.length-start > uint64(got) {
				break
			}
			v := b[l.off-start : l.off-start+l.length]
			if xxh3.Hash(v) == l.sum {
				d.bytes.Add(int64(len(v)))
				fn(l.i, v)
			}
		}
		locs = locs[n:]
	}
	return buf
}

// derivedDirectFrom is the size of a derived file past which a cold one is read
// straight from the disk (blockread.Direct): its values are read once, in
// runs scattered through it, and filling the page cache with them costs
// more system time than the reads.
const derivedDirectFrom = 4 << 20

// direct returns a direct reader of f, a file of values at path, if it is
// big and cold; else nil (read f).
func (d *DerivedFiles) direct(f *os.File, path string) *blockread.Direct {
	fi, err := f.Stat()
	if err != nil || fi.Size() < derivedDirectFrom {
		return nil
	}
	return blockread.OpenDirect(int(f.Fd()), path, fi.Size())
}

// Read says how many reads of its files Get made, and the bytes of the
// values they gave.
func (d *DerivedFiles) Read() (reads, bytes int64) { return d.reads.Load(), d.bytes.Load() }

// Put appends values to the writer's file and records keys' entries in
// the index. On a read-only store it does nothing.
func (d *DerivedFiles) Put(ctx context.Context, keys []string, values [][]byte) error {
	if d.ix.s.readOnly || len(keys) == 0 {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return d.err
	}
	if d.file == nil {
		if d.err = d.create(); d.err != nil {
			return d.err
		}
	}
	total := 0
	for _, v := range values {
		total += len(v)
	}
	if d.err = d.ix.s.space.claim(int64(total)); d.err != nil {
		return d.err
	}
	buf := make([]byte, 0, total)
	locs := make([]fileLoc, len(values))
	for i, v := range values {
		locs[i] = fileLoc{file: d.name, off: uint64(d.size) + uint64(len(buf)), length: uint64(len(v)), sum: xxh3.Hash(v)}
		buf = append(buf, v...)
	}
	if _, err := d.file.Write(buf); err != nil {
		d.err = noSpace(err)
		return d.err
	}
	d.size += int64(len(buf))
	return d.ix.Update(ctx, func(b *DerivedBatch) error {
		for i, k := range keys {
			if err := b.Set(k, locs[i].append(nil)); err != nil {
				return err
			}
		}
		return nil
	})
}

// create makes the writer's file, under a random name that no other
// writer has.
func (d *DerivedFiles) create() error {
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return noSpace(err)
	}
	for {
		var b [8]byte
		_, _ = rand.Read(b[:]) // never fails
		name := binary.LittleEndian.Uint64(b[:])
		f, err := os.OpenFile(d.path(name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return noSpace(err)
		}
		d.file, d.name = f, name
		return nil
	}
}

// Close closes the writer's file (its values stay).
func (d *DerivedFiles) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.file == nil {
		return nil
	}
	err := d.file.Close()
	d.file, d.err = nil, errors.New("store: derived files closed")
	return err
}
