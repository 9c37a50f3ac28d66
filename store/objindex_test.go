package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/locfile"
	"github.com/dxdata/dx/store/pack"
)

// storeOfV1 makes the store in dir what a v1 dx left: the object index
// as one badger entry per object, no location files, FORMAT v1. It
// returns every object's location.
func storeOfV1(t *testing.T, dir string) map[dag.ID]Location {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	locs := map[dag.ID]Location{}
	if err := s.objs.each(func(id dag.ID, l Location) error { locs[id] = l; return nil }); err != nil {
		t.Fatal(err)
	}
	putV1Entries(t, s, locs)
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Delete([]byte{pfxLocFiles}) }); err != nil {
		t.Fatal(err)
	}
	s.objs.close()
	s.objs = &objectIndex{dir: s.objs.dir, mem: map[dag.ID]Location{}}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, locsDir)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, formatFile), []byte(formatV1), 0o644); err != nil {
		t.Fatal(err)
	}
	return locs
}

// checkUpgraded opens dir (as access says) and checks it is a v2 store
// holding exactly locs, with no v1 entry left, and fsck clean.
func checkUpgraded(t *testing.T, dir string, access Access, locs map[dag.ID]Location) {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, dir, Options{Access: access})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if b, _ := os.ReadFile(filepath.Join(dir, formatFile)); string(b) != formatContent {
		t.Fatalf("FORMAT %q after the upgrade", b)
	}
	n := 0
	if err := s.objs.each(func(id dag.ID, l Location) error {
		n++
		if locs[id] != l {
			return fmt.Errorf("object %s at %+v, was at %+v", id.Short(), l, locs[id])
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != len(locs) {
		t.Fatalf("%d objects after the upgrade, %d before", n, len(locs))
	}
	_ = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pfxObject}})
		defer it.Close()
		if it.Rewind(); it.Valid() {
			t.Error("v1 object entries left in badger")
		}
		return nil
	})
	if rep, err := s.Fsck(ctx, FsckOptions{Full: true}); err != nil || !rep.OK() {
		t.Fatalf("fsck after the upgrade: %v %+v", err, rep)
	}
}

// TestUpgradeFromV1: a v1 store opened for writing, or for reading, is
// upgraded, keeping every object where it was; an older dx meets a v2
// store's FORMAT, which it refuses by name.
func TestUpgradeFromV1(t *testing.T) {
	for _, access := range []Access{ReadWrite, ReadOnly} {
		t.Run(access.String(), func(t *testing.T) {
			s, dir := newStoreWith(t, Options{PackSize: 64 << 10})
			c := commitFile(t, s, "refs/heads/main", "a.bin", randData(1, 600<<10), dag.ZeroID)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			locs := storeOfV1(t, dir)
			if len(locs) < 10 {
				t.Fatalf("only %d objects", len(locs))
			}
			if !IsStore(dir) {
				t.Fatal("a v1 store is not a store")
			}
			checkUpgraded(t, dir, access, locs)
			r, err := Open(context.Background(), dir, Options{Access: ReadOnly})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if _, err := r.Get(context.Background(), dag.KindCommit, c); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestUpgradeCrashes: each step of the upgrade can be interrupted, and the
// next open finishes it.
func TestUpgradeCrashes(t *testing.T) {
	steps := map[string]func(t *testing.T, dir string, locs map[dag.ID]Location){
		// The new file written, not listed: it is a leftover.
		"file written": func(t *testing.T, dir string, _ map[dag.ID]Location) {
			if err := os.MkdirAll(filepath.Join(dir, locsDir), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, locsDir, "00"+locExt), []byte("torn"), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		// Listed, FORMAT still v1 (the v1 entries all there): the
		// upgrade runs again.
		"file listed": func(t *testing.T, dir string, locs map[dag.ID]Location) {
			upgradeThenRestore(t, dir, locs)
			if err := os.WriteFile(filepath.Join(dir, formatFile), []byte(formatV1), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		// FORMAT v2, the v1 entries not yet dropped: they are dropped.
		"format written": func(t *testing.T, dir string, locs map[dag.ID]Location) {
			upgradeThenRestore(t, dir, locs)
		},
	}
	for name, crash := range steps {
		t.Run(name, func(t *testing.T) {
			s, dir := newStoreWith(t, Options{PackSize: 64 << 10})
			commitFile(t, s, "refs/heads/main", "a.bin", randData(2, 300<<10), dag.ZeroID)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			locs := storeOfV1(t, dir)
			crash(t, dir, locs)
			checkUpgraded(t, dir, ReadWrite, locs)
			if ents, _ := os.ReadDir(filepath.Join(dir, locsDir)); len(ents) != 1 {
				t.Fatalf("%d location files after the upgrade, want 1", len(ents))
			}
		})
	}
}

// TestLocationFilesStayFew: many writers' closes, each writing a file,
// leave a few files (merged in tiers), every object found after a reopen.
func TestLocationFilesStayFew(t *testing.T) {
	ctx := context.Background()
	s, dir := newStore(t)
	var ids []dag.ID
	for i := range 200 {
		id, err := s.Put(ctx, dag.KindChunk, []byte(fmt.Sprintf("object %d", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		s = reopen(t, s, dir)
		if n := len(s.objs.files); n > 9 {
			t.Fatalf("after %d closes: %d location files", i+1, n)
		}
	}
	ents, err := os.ReadDir(filepath.Join(dir, locsDir))
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != len(s.objs.files) {
		t.Fatalf("%d files on disk, %d listed", len(ents), len(s.objs.files))
	}
	for _, id := range ids {
		if ok, err := s.Has(ctx, id); err != nil || !ok {
			t.Fatalf("object %s: %v %v", id.Short(), ok, err)
		}
	}
	if rep, err := s.Fsck(ctx, FsckOptions{Full: true}); err != nil || !rep.OK() {
		t.Fatalf("fsck: %v %+v", err, rep)
	}
}

// TestDamagedLocationFileFound: fsck reports a location file changed on
// disk.
func TestDamagedLocationFileFound(t *testing.T) {
	ctx := context.Background()
	s, dir := newStore(t)
	commitFile(t, s, "refs/heads/main", "a.bin", randData(3, 100<<10), dag.ZeroID)
	s = reopen(t, s, dir)
	name := s.objs.files[0].name
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, locsDir, name+locExt)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A chunk's offset, which gc's mark does not read: only the check
	// of the files finds it.
	lf, err := locfile.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	at := -1
	for i := range lf.Len() {
		if e, err := lf.At(i); err == nil && e.Kind == dag.KindChunk {
			at = i
			break
		}
	}
	if at < 0 {
		t.Fatal("no chunk in the location file")
	}
	b[headerSizeForTest+at*entrySizeForTest+40] ^= 1
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, dir, Options{Access: ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	rep, err := s.Fsck(ctx, FsckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || !bytes.Contains([]byte(fmt.Sprint(rep.Problems)), []byte("checksum")) {
		t.Fatalf("fsck of a damaged location file: %+v", rep)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// gc, which trusts each entry's pack, refuses to collect.
	s, err = Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GC(ctx, GCOptions{}); err == nil || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("gc with a damaged location file: %v", err)
	}
}

// upgradeThenRestore upgrades the v1 store in dir, then puts its v1
// entries back in badger, as a crash before they were dropped leaves it.
func upgradeThenRestore(t *testing.T, dir string, locs map[dag.ID]Location) {
	t.Helper()
	s, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	putV1Entries(t, s, locs)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// encodeLoc is a location as a v1 store kept it in badger, under objKey.
func encodeLoc(l Location) []byte {
	b := make([]byte, 0, 48)
	b = append(b, l.Pack[:]...)
	b = append(b, byte(l.Kind), byte(l.Codec))
	b = binary.AppendUvarint(b, l.Offset)
	b = binary.AppendUvarint(b, uint64(l.Stored))
	b = binary.AppendUvarint(b, uint64(l.Raw))
	return b
}

// objKey is an object's key in a v1 store's badger.
func objKey(id dag.ID) []byte { return append([]byte{pfxObject}, id[:]...) }

// TestObjectIndexRebuiltFromPacks: a listed location file gone, or
// damaged past opening, is rebuilt from the packs' footers by the next
// open, a writer's or a reader's, and nothing is lost.
func TestObjectIndexRebuiltFromPacks(t *testing.T) {
	ctx := context.Background()
	for name, damage := range map[string]func(path string) error{
		"missing":   os.Remove,
		"truncated": func(path string) error { return os.Truncate(path, 100) },
	} {
		t.Run(name, func(t *testing.T) {
			for _, access := range []Access{ReadWrite, ReadOnly} {
				s, dir := newStoreWith(t, Options{PackSize: 64 << 10})
				data := randData(5, 300<<10)
				c := commitFile(t, s, "refs/heads/main", "a.bin", data, dag.ZeroID)
				s = reopen(t, s, dir)
				if len(s.objs.files) != 1 {
					t.Fatalf("%d location files", len(s.objs.files))
				}
				path := filepath.Join(dir, locsDir, s.objs.files[0].name+locExt)
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				if err := damage(path); err != nil {
					t.Fatal(err)
				}
				s, err := Open(ctx, dir, Options{Access: access})
				if err != nil {
					t.Fatalf("%s: %v", access, err)
				}
				if !bytes.Equal(readFile(t, s, entryAt(t, s, c, "a.bin").ID), data) {
					t.Fatalf("%s: the file does not read back", access)
				}
				if rep, err := s.Fsck(ctx, FsckOptions{Full: true}); err != nil || !rep.OK() {
					t.Fatalf("%s: fsck after the rebuild: %v %+v", access, err, rep)
				}
				// (The same entries: the file comes back under its name.)
				if names, err := listedNames(s.db); err != nil || len(names) != 1 {
					t.Fatalf("%s: listed after the rebuild: %v %v", access, names, err)
				}
				if err := s.objs.verifyFiles(); err != nil {
					t.Fatalf("%s: %v", access, err)
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// The location file's header and entry sizes (locfile's layout).
const (
	headerSizeForTest = 8
	entrySizeForTest  = 56
)

// putV1Entries writes locs into s's badger as a v1 store kept them.
func putV1Entries(t *testing.T, s *Store, locs map[dag.ID]Location) {
	t.Helper()
	err := s.db.Update(func(txn *badger.Txn) error {
		for id, l := range locs {
			if err := txn.Set(objKey(id), encodeLoc(l)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestWriteMemOrder: the in-memory entries come out as a valid location
// file holding exactly them, whatever their count (the buckets encodeMem
// sorts in depend on it), IDs sharing long prefixes included.
func TestWriteMemOrder(t *testing.T) {
	for _, n := range []int{0, 1, 5, 63, 64, 65, 1000, 70000, 140000} {
		x := &objectIndex{mem: map[dag.ID]Location{}}
		for i := range n {
			id := dag.Hash(dag.KindChunk, binary.LittleEndian.AppendUint64(nil, uint64(i)))
			if i%7 == 0 {
				id[2], id[3], id[31] = 0, 0, byte(i) // shares its first 8 bytes with others
				copy(id[:8], "samehead")
			}
			x.mem[id] = Location{Pack: dag.Hash(dag.KindChunk, []byte{byte(i % 3)}), Kind: dag.KindChunk, Codec: pack.CodecZstd, Offset: uint64(i), Stored: 10, Raw: 20}
		}
		f, err := x.memFile()
		if err != nil {
			t.Fatalf("%d entries: %v", n, err)
		}
		if f.Len() != len(x.mem) {
			t.Fatalf("%d entries written of %d", f.Len(), len(x.mem))
		}
		for i := range f.Len() {
			e, err := f.At(i)
			if err != nil {
				t.Fatal(err)
			}
			if l, ok := x.mem[e.ID]; !ok || locationOf(e) != l {
				t.Fatalf("entry %d: %+v, in memory %+v", i, e, l)
			}
		}
	}
}

// TestMemAddedLazily: entries added in memory reach the location file and
// lookups alike, whether or not a lookup has put them in mem, and of an ID
// added again, from another pack, the later entry wins in both.
func TestMemAddedLazily(t *testing.T) {
	packs := []dag.ID{dag.Hash(dag.KindChunk, []byte("pack a")), dag.Hash(dag.KindChunk, []byte("pack b")), dag.Hash(dag.KindChunk, []byte("pack c"))}
	entries := func(from, n int, off uint64) []pack.Entry {
		var es []pack.Entry
		for i := from; i < from+n; i++ {
			id := dag.Hash(dag.KindChunk, binary.LittleEndian.AppendUint64(nil, uint64(i)))
			es = append(es, pack.Entry{ID: id, Kind: dag.KindChunk, Codec: pack.CodecZstd, Offset: off + uint64(i), Stored: 10, Raw: 20})
		}
		return es
	}
	written := func(x *objectIndex) map[dag.ID]Location {
		t.Helper()
		f, err := x.memFile()
		if err != nil {
			t.Fatal(err)
		}
		out := map[dag.ID]Location{}
		for i := range f.Len() {
			e, err := f.At(i)
			if err != nil {
				t.Fatal(err)
			}
			out[e.ID] = locationOf(e)
		}
		if len(out) != f.Len() {
			t.Fatalf("an ID written twice: %d entries, %d IDs", f.Len(), len(out))
		}
		return out
	}
	x := &objectIndex{mem: map[dag.ID]Location{}}
	a, b := entries(0, 500, 0), entries(400, 200, 1000) // 100 IDs in both
	x.add(packs[0], a)
	x.add(packs[1], b)
	got := written(x)
	if len(got) != 600 {
		t.Fatalf("%d entries written, want 600", len(got))
	}
	check := func(want map[dag.ID]Location) {
		t.Helper()
		for id, l := range want {
			if got[id] != l {
				t.Fatalf("%s written as %+v, want %+v", id.Short(), got[id], l)
			}
			found, ok, err := x.find(id)
			if err != nil || !ok || found != l {
				t.Fatalf("find %s: %+v %v %v, want %+v", id.Short(), found, ok, err, l)
			}
		}
	}
	want := map[dag.ID]Location{}
	for i, es := range [][]pack.Entry{a, b} {
		for _, e := range es {
			want[e.ID] = Location{Pack: packs[i], Kind: e.Kind, Codec: e.Codec, Offset: e.Offset, Stored: e.Stored, Raw: e.Raw}
		}
	}
	// A few lookups read the packs' lists and leave them unsettled; of an
	// ID in both, the later pack's entry wins.
	for _, e := range b[:10] {
		found, ok, err := x.find(e.ID)
		if err != nil || !ok || found != want[e.ID] || found.Pack != packs[1] {
			t.Fatalf("find %s unsettled: %+v %v %v, want %+v", e.ID.Short(), found, ok, err, want[e.ID])
		}
	}
	if _, ok, err := x.find(dag.Hash(dag.KindChunk, []byte("absent"))); ok || err != nil {
		t.Fatalf("an absent ID found unsettled: %v %v", ok, err)
	}
	if len(x.added) != 2 || len(x.mem) != 0 {
		t.Fatalf("after 11 lookups: %d packs unsettled, %d entries in mem; want 2 and 0", len(x.added), len(x.mem))
	}
	check(want) // (and past scansBeforeSettle lookups, find settles added into mem)
	if len(x.added) != 0 || len(x.mem) != 600 {
		t.Fatalf("after a lookup: %d packs not in mem, %d entries in it", len(x.added), len(x.mem))
	}
	// Settled entries and entries added after them, some of the same IDs.
	c := entries(550, 100, 5000)
	x.add(packs[2], c)
	for _, e := range c {
		want[e.ID] = Location{Pack: packs[2], Kind: e.Kind, Codec: e.Codec, Offset: e.Offset, Stored: e.Stored, Raw: e.Raw}
	}
	if got = written(x); len(got) != 650 {
		t.Fatalf("%d entries written, want 650", len(got))
	}
	check(want)
}

// TestPersistIndexEarly: asked to, a store writes the many entries it
// holds in memory as a listed location file before it closes, where they
// are found, then and after a reopen; a few are left for the close.
func TestPersistIndexEarly(t *testing.T) {
	ctx := context.Background()
	s, dir := newStore(t)
	put := func(from, to int) []dag.ID {
		var ids []dag.ID
		for i := from; i < to; i++ {
			id, err := s.Put(ctx, dag.KindChunk, binary.LittleEndian.AppendUint64([]byte("object "), uint64(i)))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	few := put(0, 10)
	if err := s.PersistIndex(); err != nil {
		t.Fatal(err)
	}
	if len(s.objs.files) != 0 || !s.objs.holds(len(few)) {
		t.Fatalf("%d entries written early: %d files", len(few), len(s.objs.files))
	}
	ids := append(few, put(10, earlyPersist)...)
	if err := s.PersistIndex(); err != nil {
		t.Fatal(err)
	}
	if len(s.objs.files) != 1 || s.objs.holds(1) || s.objs.files[0].f.Len() != len(ids) {
		t.Fatalf("%d entries, not all written early: %d files, entries left in memory %v", len(ids), len(s.objs.files), s.objs.holds(1))
	}
	check := func(s *Store) {
		t.Helper()
		for _, i := range []int{0, 9, 10, len(ids) / 2, len(ids) - 1} {
			b, err := s.Get(ctx, dag.KindChunk, ids[i])
			if err != nil || !bytes.Equal(b, binary.LittleEndian.AppendUint64([]byte("object "), uint64(i))) {
				t.Fatalf("object %d: %q, %v", i, b, err)
			}
		}
	}
	check(s)
	s = reopen(t, s, dir)
	check(s)
	if len(s.objs.files) != 1 {
		t.Fatalf("%d files after the close, want the one written early", len(s.objs.files))
	}
}
