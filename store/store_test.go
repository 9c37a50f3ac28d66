package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/pack"
)

func newStore(t *testing.T) (*Store, string) {
	t.Helper()
	return newStoreWith(t, Options{})
}

// newStoreWith is newStore with options (a small PackSize, say).
func newStoreWith(t *testing.T, o Options) (*Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), ".dx")
	if err := Init(dir); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

func reopen(t *testing.T, s *Store, dir string) *Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return openRW(t, dir)
}

// openRW opens the store in dir for writing, closed when the test ends.
func openRW(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// memFile is a file to ingest whose content is b.
func memFile(name string, b []byte) IngestFile {
	return IngestFile{Path: name, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}
}

func randData(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// commitFile ingests data as one file, wraps it in a tree and a commit and
// points ref at it. It returns the commit ID.
func commitFile(t *testing.T, s *Store, ref string, name string, data []byte, parent dag.ID) dag.ID {
	t.Helper()
	res, err := s.Ingest(context.Background(), []IngestFile{memFile(name, data)}, IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return commitOf(t, s, ref, name, res[0], parent)
}

// commitOf points ref (at parent before) at a new commit of one file,
// ingested as r, and returns the commit ID.
func commitOf(t *testing.T, s *Store, ref, name string, r IngestResult, parent dag.ID) dag.ID {
	t.Helper()
	ctx := context.Background()
	tb := dag.NewTreeBuilder(ctx, s)
	if err := tb.Add(dag.TreeEntry{Name: name, Mode: dag.ModeFile, ID: r.ID, Size: r.Size}); err != nil {
		t.Fatal(err)
	}
	tree, _, err := tb.Finish()
	if err != nil {
		t.Fatal(err)
	}
	c := &dag.Commit{Tree: tree, Generation: 1, Author: "t", Message: name, Time: time.Unix(1700000000, 0).UTC()}
	if !parent.IsZero() {
		c.Parents = []dag.ID{parent}
		c.Generation = 2
	}
	enc, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.Put(ctx, dag.KindCommit, enc)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Transaction(ctx, []RefUpdate{{Name: ref, Old: parent, New: id}}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	return id
}

func readFile(t *testing.T, s *Store, id dag.ID) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := s.CopyFile(context.Background(), id, &buf, CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestPutGetAcrossReopen(t *testing.T) {
	ctx := context.Background()
	s, dir := newStore(t)
	objs := map[dag.ID][]byte{}
	for i := 0; i < 50; i++ {
		b := randData(uint64(i), i*1000)
		if i%2 == 0 {
			b = []byte(strings.Repeat("row,", i*100))
		}
		id, err := s.Put(ctx, dag.KindChunk, b)
		if err != nil {
			t.Fatal(err)
		}
		objs[id] = b
		// Readable before the pack is finished.
		got, err := s.Get(ctx, dag.KindChunk, id)
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("pending get %d: %v", i, err)
		}
	}
	s = reopen(t, s, dir)
	for id, b := range objs {
		got, err := s.Get(ctx, dag.KindChunk, id)
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("get %s after reopen: %v", id.Short(), err)
		}
		if _, err := s.Get(ctx, dag.KindTree, id); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("get with wrong kind: %v", err)
		}
	}
	missing := dag.Hash(dag.KindChunk, []byte("never stored"))
	if _, err := s.Get(ctx, dag.KindChunk, missing); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing object: %v", err)
	}
}

func TestDedup(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	data := randData(1, 2<<20)
	files := []IngestFile{}
	for _, name := range []string{"a.bin", "b.bin", "c.bin"} {
		files = append(files, memFile(name, data))
	}
	res, err := s.Ingest(ctx, files, IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].ID != res[1].ID || res[1].ID != res[2].ID {
		t.Fatal("identical files got different IDs")
	}
	raw := s.Stats().DataBytesRaw.Load()
	if raw != int64(len(data)) {
		t.Fatalf("stored %d raw chunk bytes for 3 copies of %d", raw, len(data))
	}
	if !bytes.Equal(readFile(t, s, res[0].ID), data) {
		t.Fatal("content does not round trip")
	}
	// Hash mode stores nothing and agrees on the ID.
	before := s.Stats().ChunksWritten.Load()
	other := randData(2, 1<<20)
	hres, err := s.Ingest(ctx, []IngestFile{memFile("x", other)}, IngestOptions{Mode: IngestHash})
	if err != nil {
		t.Fatal(err)
	}
	if s.Stats().ChunksWritten.Load() != before {
		t.Fatal("hash mode stored chunks")
	}
	if ok, _ := s.Has(ctx, hres[0].ID); ok {
		t.Fatal("hash mode stored the file node")
	}
}

func TestTransactionCAS(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	c1 := commitFile(t, s, "refs/heads/main", "a", []byte("one"), dag.ZeroID)
	c2 := commitFile(t, s, "refs/heads/main", "a", []byte("two"), c1)
	other := dag.Hash(dag.KindCommit, []byte("not stored"))

	tests := []struct {
		name    string
		updates []RefUpdate
		want    error
	}{
		{"create existing", []RefUpdate{{Name: "refs/heads/main", Old: dag.ZeroID, New: c1}}, ErrRefChanged},
		{"stale old", []RefUpdate{{Name: "refs/heads/main", Old: c1, New: c1}}, ErrRefChanged},
		{"target not stored", []RefUpdate{{Name: "refs/heads/x", New: other}}, ErrNotFound},
		{"bad name", []RefUpdate{{Name: "refs/heads/a..b", New: c1}}, nil},
		// The first update would succeed; the second fails; nothing applies.
		{"all or nothing", []RefUpdate{
			{Name: "refs/heads/new", Old: dag.ZeroID, New: c1},
			{Name: "refs/heads/main", Old: c1, New: c1},
		}, ErrRefChanged},
	}
	for _, tt := range tests {
		err := s.Transaction(ctx, tt.updates, nil, tt.name)
		if err == nil {
			t.Fatalf("%s: accepted", tt.name)
		}
		if tt.want != nil && !errors.Is(err, tt.want) {
			t.Fatalf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if id, err := s.Ref(ctx, "refs/heads/main"); err != nil || id != c2 {
		t.Fatalf("main = %s, %v; want %s", id.Short(), err, c2.Short())
	}
	if _, err := s.Ref(ctx, "refs/heads/new"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("refs/heads/new exists after a failed transaction: %v", err)
	}
	log, err := s.Reflog(ctx, "refs/heads/main")
	if err != nil || len(log) != 2 {
		t.Fatalf("reflog: %v, %d entries", err, len(log))
	}
	// Delete with the right old value.
	if err := s.Transaction(ctx, []RefUpdate{{Name: "refs/heads/main", Old: c2}}, nil, "delete"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ref(ctx, "refs/heads/main"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted ref: %v", err)
	}
}

func TestFsckFindsDamage(t *testing.T) {
	ctx := context.Background()
	s, dir := newStore(t)
	data := randData(3, 3<<20)
	commitFile(t, s, "refs/heads/main", "f", data, dag.ZeroID)
	rep, err := s.Fsck(ctx, FsckOptions{Full: true})
	if err != nil || !rep.OK() {
		t.Fatalf("fresh store: %v %v", err, rep.Problems)
	}
	if rep.Reachable == 0 || rep.Packs < 2 {
		t.Fatalf("fsck saw %d packs, %d reachable", rep.Packs, rep.Reachable)
	}
	s = reopen(t, s, dir)
	packs, _ := filepath.Glob(filepath.Join(dir, packsDir, "*.pack"))
	// Flip a byte in the middle of the largest (data) pack.
	var big string
	var bigSize int64
	for _, p := range packs {
		if st, _ := os.Stat(p); st.Size() > bigSize {
			big, bigSize = p, st.Size()
		}
	}
	b, _ := os.ReadFile(big)
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(big, b, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err = s.Fsck(ctx, FsckOptions{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() {
		t.Fatal("full fsck missed a flipped byte in a data pack")
	}
	// A missing pack is found even by the quick check.
	if err := os.Remove(big); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s, dir)
	rep, err = s.Fsck(ctx, FsckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() {
		t.Fatal("fsck missed a deleted pack")
	}
}

func TestGCKeepsReachable(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	keep := randData(4, 1<<20)
	drop := randData(5, 1<<20)
	c1 := commitFile(t, s, "refs/heads/main", "keep", keep, dag.ZeroID)
	commitFile(t, s, "refs/heads/tmp", "drop", drop, dag.ZeroID)
	tmp, _ := s.Ref(ctx, "refs/heads/tmp")
	if err := s.Transaction(ctx, []RefUpdate{{Name: "refs/heads/tmp", Old: tmp}}, nil, "drop"); err != nil {
		t.Fatal(err)
	}
	dry, err := s.GC(ctx, GCOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if dry.Unreachable == 0 {
		t.Fatal("dry run found nothing to collect")
	}
	if ok, _ := s.Has(ctx, tmp); !ok {
		t.Fatal("dry run removed an object")
	}
	rep, err := s.GC(ctx, GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Unreachable != dry.Unreachable || rep.FreedBytes < 1<<19 {
		t.Fatalf("gc: %+v (dry run said %+v)", rep, dry)
	}
	if ok, _ := s.Has(ctx, tmp); ok {
		t.Fatal("unreachable commit survived gc")
	}
	fr, err := s.Fsck(ctx, FsckOptions{Full: true})
	if err != nil || !fr.OK() {
		t.Fatalf("fsck after gc: %v %v", err, fr.Problems)
	}
	if !bytes.Equal(readFile(t, s, entryAt(t, s, c1, "keep").ID), keep) {
		t.Fatal("kept file changed by gc")
	}
}

// entryAt returns the entry of path in the tree of commit.
func entryAt(t *testing.T, s *Store, commit dag.ID, path string) dag.TreeEntry {
	t.Helper()
	ctx := context.Background()
	cm, err := dag.LoadCommit(ctx, s, commit)
	if err != nil {
		t.Fatal(err)
	}
	e, err := dag.LookupPath(ctx, s, cm.Tree, path)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestOpenLocked(t *testing.T) {
	_, dir := newStore(t)
	_, err := Open(context.Background(), dir, Options{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	if _, err := Open(context.Background(), t.TempDir(), Options{}); !errors.Is(err, ErrNotStore) {
		t.Fatalf("open of a plain directory: %v", err)
	}
}

// TestManyPacksParallelRead reads through more packs than the open-file
// cache holds from several goroutines: eviction must never close a file
// under a reader.
func TestManyPacksParallelRead(t *testing.T) {
	ctx := context.Background()
	s, _ := newStoreWith(t, Options{PackSize: 1 << 16})
	var ids []dag.ID
	for i := 0; i < maxOpenPacks+60; i++ {
		id, err := s.Put(ctx, dag.KindChunk, randData(uint64(i), 70<<10))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	errc := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			for r := 0; r < 5; r++ {
				for _, id := range ids {
					if _, err := s.Get(ctx, dag.KindChunk, id); err != nil {
						errc <- err
						return
					}
				}
			}
			errc <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}

// TestOpenAfterCrashLeftEmptyValueLog: a crash just after badger created a
// value-log or memtable-log file leaves it empty, which badger alone
// refuses to open (the crash test met the memtable case).
func TestOpenAfterCrashLeftEmptyValueLog(t *testing.T) {
	ctx := context.Background()
	s, dir := newStore(t)
	data := randData(11, 300<<10)
	id := commitFile(t, s, "refs/heads/main", "a.bin", data, dag.ZeroID)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"000007.vlog", "000999.vlog", "00099.mem"} {
		if err := os.WriteFile(filepath.Join(dir, indexDir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s2, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatalf("open after an empty value log was left: %v", err)
	}
	defer s2.Close()
	c, err := dag.LoadCommit(ctx, s2, id)
	if err != nil {
		t.Fatal(err)
	}
	if c.Tree.IsZero() {
		t.Fatal("commit lost")
	}
	if rep, err := s2.Fsck(ctx, FsckOptions{Full: true}); err != nil || !rep.OK() {
		t.Fatalf("fsck: %+v %v", rep, err)
	}
}

// TestMetaNeverIndexedBeforeItsData: metadata packs are finished early
// (earlyMetaPack) while the data packs their objects name are still open,
// and handed on only after them; so in the order packs are indexed, no
// File object comes before a chunk it names. Writers run concurrently, as
// in an ingest, some putting the same chunks at once.
func TestMetaNeverIndexedBeforeItsData(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), ".dx")
	if err := Init(dir); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, dir, Options{PackSize: 1 << 20}) // above earlyMetaPack
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var mu sync.Mutex
	indexed := map[dag.ID]bool{}
	var metaPacks int
	var bad []string
	s.indexed = func(meta bool, entries []pack.Entry) {
		mu.Lock()
		defer mu.Unlock()
		if meta {
			metaPacks++
		}
		for _, e := range entries {
			if e.Kind == dag.KindFile {
				b, err := s.Get(ctx, dag.KindFile, e.ID)
				if err != nil {
					bad = append(bad, err.Error())
					continue
				}
				n, err := dag.DecodeFileNode(b)
				if err != nil {
					bad = append(bad, err.Error())
					continue
				}
				for _, c := range n.Chunks {
					if !indexed[c.ID] {
						bad = append(bad, fmt.Sprintf("file %s indexed before its chunk %s", e.ID.Short(), c.ID.Short()))
					}
				}
			}
		}
		for _, e := range entries {
			indexed[e.ID] = true
		}
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 8000 {
				// Writers 0 and 2 (and 1 and 3) put the same chunks,
				// racing to claim them.
				data := randData(uint64(w%2*100000+i), 2000)
				id, err := s.Put(ctx, dag.KindChunk, data)
				if err != nil {
					t.Error(err)
					return
				}
				fb := dag.NewFileBuilder(ctx, s)
				if err := fb.Add(dag.ChunkRef{ID: id, Len: uint32(len(data))}); err != nil {
					t.Error(err)
					return
				}
				if _, _, err := fb.Finish(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bad) > 0 {
		t.Fatalf("%d violations, first: %s", len(bad), bad[0])
	}
	if metaPacks < 2 {
		t.Fatalf("%d metadata packs: none was finished early", metaPacks)
	}
}

// TestIndexLevel0StaysBounded: every short write command's close turns its
// index writes into a level-0 table, and badger's background compaction
// starts too late to run in one; Close compacts level 0 once it has
// level0Compact tables, so many commands leave few tables, and every
// object written stays readable.
func TestIndexLevel0StaysBounded(t *testing.T) {
	ctx := context.Background()
	s, dir := newStore(t)
	var ids []dag.ID
	for i := 0; i < 3*level0Compact; i++ {
		id, err := s.Put(ctx, dag.KindChunk, randData(uint64(100+i), 1000))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		s = reopen(t, s, dir)
		if n := s.db.Levels()[0].NumTables; n > level0Compact {
			t.Fatalf("after %d commands, %d level-0 tables (compacted at %d)", i+1, n, level0Compact)
		}
	}
	for _, id := range ids {
		if _, err := s.Get(ctx, dag.KindChunk, id); err != nil {
			t.Fatalf("get %s after compactions: %v", id.Short(), err)
		}
	}
}

// TestIngestRecordsKeyRanges: a file ingested with ChunkKeys has the range
// of every chunk recorded under its tag (the first chunk apart), found
// after a reopen; other tags and unknown chunks have none.
func TestIngestRecordsKeyRanges(t *testing.T) {
	ctx := context.Background()
	s, dir := newStore(t)
	data := randData(9, 600<<10)
	tag := [8]byte{1, 2, 3}
	keys := &ChunkKeys{Tag: tag, Range: func(chunk []byte, first bool) (dag.KeyRange, bool) {
		if len(chunk) < 2 {
			return dag.KeyRange{}, false
		}
		return dag.KeyRange{Lo: fmt.Sprint(first, chunk[0]), Hi: fmt.Sprint(chunk[len(chunk)-1])}, true
	}}
	f := memFile("f", data)
	f.Keys = keys
	res, err := s.Ingest(ctx, []IngestFile{f}, IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s, dir)
	var refs []KeyRangeRef
	var want []string
	off := 0
	err = dag.WalkFile(ctx, s, res[0].ID, func(c dag.ChunkRef) error {
		chunk := data[off : off+int(c.Len)]
		refs = append(refs, KeyRangeRef{ID: c.ID, First: off == 0})
		kr, _ := keys.Range(chunk, off == 0)
		want = append(want, kr.Lo+".."+kr.Hi)
		off += int(c.Len)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) < 3 {
		t.Fatalf("%d chunks", len(refs))
	}
	got, ok, err := s.KeyRanges(ctx, tag, refs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range refs {
		if !ok[i] || got[i].Lo+".."+got[i].Hi != want[i] {
			t.Errorf("chunk %d: %q..%q (%v), want %s", i, got[i].Lo, got[i].Hi, ok[i], want[i])
		}
	}
	refs[1].First = true // recorded as not first
	_, ok, err = s.KeyRanges(ctx, [8]byte{9}, refs[:1])
	_, ok2, err2 := s.KeyRanges(ctx, tag, refs[1:2])
	if err != nil || err2 != nil || ok[0] || ok2[0] {
		t.Errorf("ranges found under another tag (%v) or for a chunk not first (%v): %v %v", ok[0], ok2[0], err, err2)
	}
}

// TestGCDropsDeadKeyRanges: gc deletes the key ranges of the chunks it
// removes and keeps those of the chunks it keeps.
func TestGCDropsDeadKeyRanges(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	c1 := commitFile(t, s, "refs/heads/main", "keep", randData(6, 300<<10), dag.ZeroID)
	c2 := commitFile(t, s, "refs/heads/tmp", "drop", randData(7, 300<<10), dag.ZeroID)
	tag := [8]byte{7}
	firstChunk := func(commit dag.ID, name string) KeyRangeRef {
		var ref KeyRangeRef
		err := dag.WalkFile(ctx, s, entryAt(t, s, commit, name).ID, func(c dag.ChunkRef) error {
			if ref.ID.IsZero() {
				ref = KeyRangeRef{ID: c.ID}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RecordKeyRanges(tag, []KeyRangeEntry{{KeyRangeRef: ref, KeyRange: dag.KeyRange{Lo: "a", Hi: "b"}}}); err != nil {
			t.Fatal(err)
		}
		return ref
	}
	keep, drop := firstChunk(c1, "keep"), firstChunk(c2, "drop")
	if err := s.Transaction(ctx, []RefUpdate{{Name: "refs/heads/tmp", Old: c2}}, nil, "drop"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GC(ctx, GCOptions{}); err != nil {
		t.Fatal(err)
	}
	_, ok, err := s.KeyRanges(ctx, tag, []KeyRangeRef{keep, drop})
	if err != nil || !ok[0] || ok[1] {
		t.Fatalf("after gc: live chunk's range kept %v, dead chunk's kept %v (%v)", ok[0], ok[1], err)
	}
}
