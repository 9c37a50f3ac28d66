package store

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/locfile"
)

// repairFixture is a store of two commits over several packs, closed:
// its directory, the files' contents and IDs, and its one location file.
type repairFixture struct {
	dir   string
	data  [][]byte
	files []dag.ID
	loc   string // the location file's path
}

func newRepairFixture(t *testing.T) repairFixture {
	t.Helper()
	s, dir := newStoreWith(t, Options{PackSize: 64 << 10})
	f := repairFixture{dir: dir}
	parent := dag.ZeroID
	for i, name := range []string{"a.bin", "b.bin"} {
		d := randData(uint64(40+i), 300<<10)
		parent = commitFile(t, s, "refs/heads/main", name, d, parent)
		f.data, f.files = append(f.data, d), append(f.files, entryAt(t, s, parent, name).ID)
	}
	s = reopen(t, s, dir)
	if len(s.objs.files) != 1 {
		t.Fatalf("%d location files", len(s.objs.files))
	}
	f.loc = filepath.Join(dir, locsDir, s.objs.files[0].name+locExt)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return f
}

// open opens the fixture's store, with its recorded packs.
func (f repairFixture) open(t *testing.T) (*Store, map[dag.ID]packRecord) {
	t.Helper()
	s := openRW(t, f.dir)
	recs, err := s.packRecords(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s, recs
}

// checkFilesRead fails unless every file of the fixture reads back from s.
func (f repairFixture) checkFilesRead(t *testing.T, s *Store) {
	t.Helper()
	for i, id := range f.files {
		if !bytes.Equal(readFile(t, s, id), f.data[i]) {
			t.Fatalf("file %d does not read back", i)
		}
	}
}

// footerEntries is the union of the recorded packs' footers that read:
// the index a repair must give.
func footerEntries(t *testing.T, s *Store) map[dag.ID]Location {
	t.Helper()
	recs, err := s.packRecords(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[dag.ID]Location{}
	for id := range recs {
		es, _, err := s.checkPackFile(id, false)
		if err != nil {
			continue
		}
		for _, e := range es {
			out[e.ID] = Location{Pack: id, Kind: e.Kind, Codec: e.Codec, Offset: e.Offset, Stored: e.Stored, Raw: e.Raw}
		}
	}
	return out
}

func indexEntries(t *testing.T, s *Store) map[dag.ID]Location {
	t.Helper()
	out := map[dag.ID]Location{}
	if err := s.objs.each(func(id dag.ID, l Location) error { out[id] = l; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRepairDamagedLocationFile: every chunk's offset flipped in the one
// location file (its shape intact, its checksum not): the files do not
// read, fsck says the index is damaged, and a repair gives exactly the
// packs' footers, after which everything reads, fsck --full is clean and
// gc collects again.
func TestRepairDamagedLocationFile(t *testing.T) {
	ctx := context.Background()
	f := newRepairFixture(t)
	b, err := os.ReadFile(f.loc)
	if err != nil {
		t.Fatal(err)
	}
	lf, err := locfile.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	flipped := 0
	for i := range lf.Len() {
		if e, err := lf.At(i); err == nil && e.Kind == dag.KindChunk {
			b[headerSizeForTest+i*entrySizeForTest+41] ^= 1
			flipped++
		}
	}
	if flipped == 0 {
		t.Fatal("no chunk in the location file")
	}
	if err := os.WriteFile(f.loc, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s := openRW(t, f.dir)
	var buf bytes.Buffer
	if _, err := s.CopyFile(ctx, f.files[0], &buf, CopyOptions{}); err == nil {
		t.Fatal("a file read through damaged entries")
	}
	rep, err := s.Fsck(ctx, FsckOptions{})
	if err != nil || rep.OK() || !rep.IndexDamaged {
		t.Fatalf("fsck before the repair: %v %+v", err, rep)
	}
	fixed, err := s.RepairIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := footerEntries(t, s)
	if fixed.DamagedFiles != 1 || fixed.Objects != len(want) || len(fixed.MissingPacks)+len(fixed.UnreadableFooters) != 0 {
		t.Fatalf("repair: %+v (footers hold %d objects)", fixed, len(want))
	}
	checkIndexIs(t, s, want)
	s = reopen(t, s, f.dir)
	checkIndexIs(t, s, want)
	f.checkFilesRead(t, s)
	if rep, err := s.Fsck(ctx, FsckOptions{Full: true}); err != nil || !rep.OK() {
		t.Fatalf("fsck after the repair: %v %+v", err, rep)
	}
	if _, err := s.GC(ctx, GCOptions{}); err != nil {
		t.Fatalf("gc after the repair: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(f.dir, locsDir)); len(ents) != 1 {
		t.Fatalf("%d files in %s after the repair and gc", len(ents), locsDir)
	}
}

// checkIndexIs fails unless s's object index holds exactly want.
func checkIndexIs(t *testing.T, s *Store, want map[dag.ID]Location) {
	t.Helper()
	got := indexEntries(t, s)
	if len(got) != len(want) {
		t.Fatalf("index holds %d objects, want %d", len(got), len(want))
	}
	for id, l := range want {
		if got[id] != l {
			t.Fatalf("object %s: index %+v, footer %+v", id.Short(), got[id], l)
		}
	}
	if err := s.objs.verifyFiles(); err != nil {
		t.Fatal(err)
	}
}

// TestRepairMissingPack: a data pack deleted. The repair drops its record
// and entries, so the store no longer claims its objects (a fetch could
// bring them back), and fsck reports the reachable data missing, not the
// index.
func TestRepairMissingPack(t *testing.T) {
	ctx := context.Background()
	f := newRepairFixture(t)
	s, recs := f.open(t)
	var gone dag.ID
	var goneObjs []dag.ID
	for id := range recs {
		es, _, err := s.checkPackFile(id, false)
		if err != nil {
			t.Fatal(err)
		}
		if es[0].Kind == dag.KindChunk {
			gone = id
			for _, e := range es {
				goneObjs = append(goneObjs, e.ID)
			}
			break
		}
	}
	if gone.IsZero() {
		t.Fatal("no data pack")
	}
	s = reopenAfter(t, s, f.dir, func() {
		if err := os.Remove(s.packPath(gone)); err != nil {
			t.Fatal(err)
		}
	})
	fixed, err := s.RepairIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(fixed.MissingPacks) != 1 || fixed.MissingPacks[0] != gone || fixed.Packs != len(recs)-1 {
		t.Fatalf("repair: %+v", fixed)
	}
	checkIndexIs(t, s, footerEntries(t, s))
	for _, id := range goneObjs {
		if ok, err := s.Has(ctx, id); err != nil || ok {
			t.Fatalf("object %s of the missing pack: has %v %v", id.Short(), ok, err)
		}
	}
	rep, err := s.Fsck(ctx, FsckOptions{})
	if err != nil || rep.OK() || rep.IndexDamaged {
		t.Fatalf("fsck after the repair: %v %+v", err, rep)
	}
	for _, p := range rep.Problems {
		if !bytes.Contains([]byte(p), []byte("reachable chunk")) {
			t.Fatalf("fsck after the repair: %q", p)
		}
	}
}

// TestRepairKeepsPacksWithoutFooter: a pack whose footer no longer reads
// keeps the entries the sound location file gives it, so its objects
// still read; the others come from their footers.
func TestRepairKeepsPacksWithoutFooter(t *testing.T) {
	ctx := context.Background()
	f := newRepairFixture(t)
	s, recs := f.open(t)
	before := indexEntries(t, s)
	var hurt dag.ID
	for id := range recs {
		if es, _, _ := s.checkPackFile(id, false); len(es) > 0 && es[0].Kind == dag.KindChunk {
			hurt = id
			break
		}
	}
	s = reopenAfter(t, s, f.dir, func() {
		p := s.packPath(hurt)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)-1] ^= 0xff // the footer's last byte
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	})
	if _, _, err := s.checkPackFile(hurt, false); err == nil {
		t.Fatal("the damaged footer still reads")
	}
	fixed, err := s.RepairIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(fixed.UnreadableFooters) != 1 || fixed.Objects != len(before) {
		t.Fatalf("repair: %+v, %d objects before", fixed, len(before))
	}
	checkIndexIs(t, s, before)
	f.checkFilesRead(t, s)
}

// reopenAfter closes s, runs damage, and opens the store again.
func reopenAfter(t *testing.T, s *Store, dir string, damage func()) *Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	damage()
	return openRW(t, dir)
}

// TestRepairPacksSharingObjects: two recorded packs hold the same objects,
// as a gc killed between its rewrite and its drop leaves them. The repair
// indexes each object once, in one of them, and everything reads back.
func TestRepairPacksSharingObjects(t *testing.T) {
	ctx := context.Background()
	f := newRepairFixture(t)
	s, recs := f.open(t)
	before := indexEntries(t, s)
	for id, r := range recs {
		es, _, err := s.checkPackFile(id, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) < 2 {
			continue
		}
		// Half its objects: a pack of another name.
		if err := s.rewritePack(ctx, id, r.Meta, es[:len(es)/2]); err != nil {
			t.Fatal(err)
		}
		break
	}
	fixed, err := s.RepairIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fixed.Packs != len(recs)+1 || fixed.Objects != len(before) {
		t.Fatalf("repair: %+v; before the rewrite %d packs, %d objects", fixed, len(recs), len(before))
	}
	if rep, err := s.Fsck(ctx, FsckOptions{Full: true}); err != nil || !rep.OK() {
		t.Fatalf("fsck after the repair: %v %+v", err, rep)
	}
	f.checkFilesRead(t, s)
}
