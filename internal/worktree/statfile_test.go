package worktree

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// TestStatFileOracle runs random rounds of sets and deletes, some through
// the entries an older dx kept in the index, against a map, and checks
// lookups of random sorted subsets (present and absent paths) and the
// whole cache as gc reads it after each round.
func TestStatFileOracle(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	rng := rand.New(rand.NewPCG(1, 2))
	universe := make([]string, 3000)
	for i := range universe {
		// Uneven names: "a", "a.b" and "a/…" sort apart from directory order.
		universe[i] = fmt.Sprintf("d%d%s/f%04d", i%7, []string{"", ".x", "/s"}[i%3], rng.IntN(100000))
	}
	oracle := map[string]StatEntry{}
	entry := func(p string) StatEntry {
		return StatEntry{Size: rng.Int64N(1 << 40), MtimeNs: rng.Int64(), Inode: rng.Uint64(), Mode: dag.ModeFile, File: dag.Hash(dag.KindFile, []byte(p+fmt.Sprint(rng.Int()))), Recorded: rng.Int64()}
	}
	legacy, err := s.Derived('s')
	if err != nil {
		t.Fatal(err)
	}
	for round := range 30 {
		set := map[string]StatEntry{}
		for range rng.IntN(700) {
			p := universe[rng.IntN(len(universe))]
			set[p] = entry(p)
		}
		var del []string
		for range rng.IntN(300) {
			del = append(del, universe[rng.IntN(len(universe))])
		}
		if round == 10 {
			// An older dx writes to the index after the file exists: its
			// entries are not read, and the next write drops them.
			if err := legacy.Put(ctx, universe[0], entry(universe[0]).encode()); err != nil {
				t.Fatal(err)
			}
		}
		if err := UpdateStatCache(ctx, s, Stats(set), del); err != nil {
			t.Fatal(err)
		}
		maps.Copy(oracle, set)
		for _, p := range del {
			delete(oracle, p)
		}
		for range 5 {
			var paths []string
			for _, p := range universe {
				if rng.IntN(4) == 0 {
					paths = append(paths, p)
				}
			}
			paths = append(paths, "", "~", "d3/zz")
			slices.Sort(paths)
			paths = slices.Compact(paths)
			got := lookupAll(t, s, paths)
			for _, p := range paths {
				if w, ok := oracle[p]; ok != (got[p] != StatEntry{}) || got[p] != w {
					t.Fatalf("round %d: %s: got %+v, want %+v (cached %v)", round, p, got[p], w, ok)
				}
			}
		}
		all, err := loadStatCache(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != len(oracle) {
			t.Fatalf("round %d: gc reads %d entries, want %d", round, len(all), len(oracle))
		}
		for i, c := range all {
			if oracle[c.path] != c.entry || (i > 0 && all[i-1].path >= c.path) {
				t.Fatalf("round %d: entry %d %s out of order or wrong", round, i, c.path)
			}
		}
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r     io.ReaderAt
	bytes atomic.Int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.bytes.Add(int64(len(p)))
	return c.r.ReadAt(p, off)
}

// TestStatFileReadsWhatItNeeds: a lookup of one path in a cache of 50,000
// reads the index and one block, not the file; a lookup of every path
// reads the file about once.
func TestStatFileReadsWhatItNeeds(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	paths, set := statSet(50000, func(i int) string { return fmt.Sprintf("dir%03d/file%05d.csv", i%200, i) })
	if err := WriteStatCache(ctx, s, Stats(set), nil); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(s.Dir(), statFileName))
	if err != nil {
		t.Fatal(err)
	}
	read := func(want []string) (int64, int) {
		t.Helper()
		sf, err := openStatFile(s.Dir())
		if err != nil || sf == nil {
			t.Fatal(sf, err)
		}
		defer sf.close()
		cr := &countingReader{r: sf.f}
		sf.r = cr
		found := 0
		if err := sf.lookup(want, func(i int, v []byte) {
			if e, err := decodeStat(v); err != nil || e != set[want[i]] {
				t.Fatalf("%s: %+v %v", want[i], e, err)
			}
			found++
		}); err != nil {
			t.Fatal(err)
		}
		return cr.bytes.Load(), found
	}
	one, found := read([]string{paths[31234]})
	if found != 1 || one > 24<<10 {
		t.Errorf("one path: found %d, read %d bytes of a %d-byte file", found, one, fi.Size())
	}
	whole, found := read(paths)
	if found != len(paths) || whole > fi.Size() {
		t.Errorf("every path: found %d, read %d bytes of a %d-byte file", found, whole, fi.Size())
	}
}

// TestStatFileDamage: a block whose bytes are damaged is a miss for its
// paths only; a file cut short, or not a stat cache at all, is a miss for
// every path; neither is an error, and the next write starts afresh.
func TestStatFileDamage(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	paths, set := statSet(1000, func(i int) string { return fmt.Sprintf("f%04d", i) })
	if err := WriteStatCache(ctx, s, Stats(set), nil); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(s.Dir(), statFileName)
	good, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	found := func() map[string]bool {
		t.Helper()
		got := map[string]bool{}
		for p, e := range lookupAll(t, s, paths) {
			if e != set[p] {
				t.Errorf("%s: %+v, want %+v", p, e, set[p])
			}
			got[p] = true
		}
		return got
	}
	// A byte in the middle of the second block (entries 256 to 511).
	sf, err := openStatFile(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	blk := sf.blocks[1]
	sf.close()
	// One bit of the File of entry 300, in the second block (entries 256
	// to 511): the block still decodes, only its checksum fails.
	file := set[paths[300]].File
	at := blk.off + int64(bytes.Index(good[blk.off:blk.off+blk.length], file[:]))
	bad := slices.Clone(good)
	bad[at+5] ^= 1
	if err := os.WriteFile(name, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	got := found()
	for i, p := range paths {
		if got[p] == (i >= 256 && i < 512) {
			t.Fatalf("damaged second block: %s found %v", p, got[p])
		}
	}
	// One bit of the second block's first path in the index: every path
	// is a miss.
	ixAt := int64(bytes.LastIndex(good, []byte(paths[256])))
	if ixAt < blk.off+blk.length {
		t.Fatal("the index holds no first path of the second block")
	}
	bad = slices.Clone(good)
	bad[ixAt+2] ^= 1
	if err := os.WriteFile(name, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := found(); len(got) != 0 {
		t.Fatalf("damaged index: %d paths found", len(got))
	}
	for _, cut := range []int{len(good) - 1, len(good) / 2, 3, 0} {
		if err := os.WriteFile(name, good[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		if got := found(); len(got) != 0 {
			t.Fatalf("file cut to %d bytes: %d paths found", cut, len(got))
		}
	}
	if err := WriteStatCache(ctx, s, Stats(map[string]StatEntry{"new": {Size: 1}}), nil); err != nil {
		t.Fatal(err)
	}
	if got := found(); len(got) != 0 {
		t.Fatalf("after a write over a damaged file: %d old paths found", len(got))
	}
	if fr, err := s.Fsck(ctx, store.FsckOptions{}); err != nil || !fr.OK() || len(fr.Notes) != 0 {
		t.Fatalf("fsck after the writes: %v, %+v (a temporary file left?)", err, fr)
	}
}

// TestStatCacheReadOnly: a read-only store's cache is read, never written.
func TestStatCacheReadOnly(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), ".dx")
	if err := store.Init(dir); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := UpdateStatCache(ctx, s, Stats(map[string]StatEntry{"a": {Size: 1}}), nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	ro, err := store.Open(ctx, dir, store.Options{Access: store.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	before, err := os.ReadFile(filepath.Join(dir, statFileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteStatCache(ctx, ro, Stats(map[string]StatEntry{"b": {Size: 2}}), []string{"a"}); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(filepath.Join(dir, statFileName))
	if err != nil || string(after) != string(before) {
		t.Fatalf("a read-only store's cache was written (%v)", err)
	}
	n := 0
	if err := LookupStats(ctx, ro, []string{"a", "b"}, func(int, StatEntry) { n++ }); err != nil || n != 1 {
		t.Fatalf("read-only lookup: %d found, %v", n, err)
	}
}

// BenchmarkWriteStatCache200k sets 200,000 entries in a cache that holds
// them (a commit after every file of a big worktree was touched).
func BenchmarkWriteStatCache200k(b *testing.B) {
	ctx := context.Background()
	s := openStore(b)
	_, set := statSet(200000, func(i int) string { return fmt.Sprintf("a%02d/b%03d/f%03d.txt", i/10000, i/100%100, i%100) })
	for b.Loop() {
		if err := WriteStatCache(ctx, s, Stats(set), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// statSet makes n entries, the i-th at path(i), each naming a File of its
// own: the paths sorted, as lookups take them, and the entries by path.
func statSet(n int, path func(i int) string) ([]string, map[string]StatEntry) {
	paths := make([]string, n)
	set := make(map[string]StatEntry, n)
	for i := range paths {
		p := path(i)
		paths[i] = p
		set[p] = StatEntry{Size: int64(i), MtimeNs: 1, Inode: uint64(i), File: dag.Hash(dag.KindFile, []byte(p))}
	}
	slices.Sort(paths)
	return paths, set
}
