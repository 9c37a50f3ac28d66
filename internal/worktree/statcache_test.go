package worktree

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zeebo/xxh3"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

func openStore(tb testing.TB) *store.Store {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), ".dx")
	if err := store.Init(dir); err != nil {
		tb.Fatal(err)
	}
	s, err := store.Open(context.Background(), dir, store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// TestStatCacheFormat pins the stat cache's encodings: the entries older
// dx kept in the index under prefix s, which existing repositories hold
// and which are read until the cache's file replaces them, the file's
// layout, and the tree cache's key and encoding.
func TestStatCacheFormat(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	e := StatEntry{Size: 1234, MtimeNs: 1700000000123456789, CtimeNs: -5, Inode: 99, Mode: dag.ModeFile, File: dag.Hash(dag.KindFile, []byte("x")), Recorded: 1700000001000000000}
	wantStat := "a413aab4aed8c7bfce972f0963" + fmt.Sprintf("%02x", byte(dag.ModeFile)) + hex.EncodeToString(e.File[:]) + "80a8a69ccebfce972f"
	if got := hex.EncodeToString(e.encode()); got != wantStat {
		t.Fatalf("stat entry: %s, want %s", got, wantStat)
	}
	// An older dx's entry, as it wrote it, is read.
	legacy, err := s.Derived('s')
	if err != nil {
		t.Fatal(err)
	}
	if err := legacy.Put(ctx, "a/b.csv", e.encode()); err != nil {
		t.Fatal(err)
	}
	lookup := func(paths ...string) map[string]StatEntry { return lookupAll(t, s, paths) }
	if got := lookup("a/b.csv"); got["a/b.csv"] != e {
		t.Fatalf("entry in the index: %+v, want %+v", got, e)
	}
	// The first write moves it into the file and out of the index.
	e2 := e
	e2.Size = 7
	if err := UpdateStatCache(ctx, s, Stats(map[string]StatEntry{"z": e2}), nil); err != nil {
		t.Fatal(err)
	}
	if got := lookup("a/b.csv", "z"); got["a/b.csv"] != e || got["z"] != e2 || len(got) != 2 {
		t.Fatalf("after the first write: %+v", got)
	}
	n := 0
	if err := legacy.Scan(ctx, func(k, v []byte) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("%d entries left in the index (%v)", n, err)
	}
	file, err := os.ReadFile(filepath.Join(s.Dir(), statFileName))
	if err != nil {
		t.Fatal(err)
	}
	// The layout: header, one block of two entries, the index, the
	// trailer.
	block := "07" + hex.EncodeToString([]byte("a/b.csv")) + "37" + wantStat +
		"01" + hex.EncodeToString([]byte("z")) + "36" + hex.EncodeToString(e2.encode())
	blockBytes, _ := hex.DecodeString(block)
	index := hex.EncodeToString([]byte("DXSI")) + "01" + "07" + hex.EncodeToString([]byte("a/b.csv")) +
		fmt.Sprintf("%02x", len(blockBytes)) + "02" + le64(xxh3.Hash(blockBytes))
	indexBytes, _ := hex.DecodeString(index)
	want := hex.EncodeToString([]byte("DXSTAT\x00\x01")) + block + index + le64(uint64(8+len(blockBytes))) + le64(xxh3.Hash(indexBytes))
	if got := hex.EncodeToString(file); got != want {
		t.Errorf("stat cache file:\n%s, want\n%s", got, want)
	}

	tc := TreeCache{Fingerprint: [32]byte{1, 2}, Root: dag.Hash(dag.KindTree, nil), Size: 300}
	if err := SaveTreeCache(ctx, s, tc); err != nil {
		t.Fatal(err)
	}
	d, err := s.Derived('T')
	if err != nil {
		t.Fatal(err)
	}
	var v []byte
	if ok, err := d.Get(ctx, "", func(b []byte) error { v = bytes.Clone(b); return nil }); err != nil || !ok {
		t.Fatalf("tree cache: found %v, %v", ok, err)
	}
	wantTree := hex.EncodeToString(tc.Fingerprint[:]) + hex.EncodeToString(tc.Root[:]) + "ac02"
	if got := hex.EncodeToString(v); got != wantTree {
		t.Errorf("tree cache: %s, want %s", got, wantTree)
	}
	if got, ok, err := LoadTreeCache(ctx, s); err != nil || !ok || got != tc {
		t.Errorf("tree cache: %+v %v %v, want %+v", got, ok, err, tc)
	}
}

// lookupAll looks up paths (sorted) and returns what was found, failing
// the test if a path is reported twice.
func lookupAll(t *testing.T, s *store.Store, paths []string) map[string]StatEntry {
	t.Helper()
	got := map[string]StatEntry{}
	err := LookupStats(context.Background(), s, paths, func(i int, e StatEntry) {
		if _, dup := got[paths[i]]; dup {
			t.Errorf("%s reported twice", paths[i])
		}
		got[paths[i]] = e
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func le64(v uint64) string { return hex.EncodeToString(binary.LittleEndian.AppendUint64(nil, v)) }

func TestLookupStats(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	// Names chosen so that bytewise order differs from directory order
	// ("a.b" sorts between "a" and "a/…").
	cached := []string{"a", "a.b", "a/b", "a/c", "b", "z"}
	for i := 0; i < 100; i++ {
		cached = append(cached, fmt.Sprintf("m/%03d", i))
	}
	set := map[string]StatEntry{}
	for i, p := range cached {
		set[p] = StatEntry{Size: int64(i), File: dag.Hash(dag.KindChunk, []byte(p))}
	}
	if err := UpdateStatCache(ctx, s, Stats(set), nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		paths []string
	}{
		{"none", nil},
		{"all", cached},
		{"absent only", []string{"0", "a/a", "m/0005", "zz"}},
		{"mixed", []string{"0", "a", "a-x", "a.b", "a/b", "a/bb", "m/050", "m/051", "m/099", "y", "z", "zz"}},
		{"sparse (seeks)", []string{"a", "m/000", "m/040", "m/098", "z"}},
		{"dense then gap", []string{"m/000", "m/001", "m/002", "m/090"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			paths := slices.Clone(tc.paths)
			slices.Sort(paths)
			got := lookupAll(t, s, paths)
			want := 0
			for _, p := range paths {
				e, ok := set[p]
				if !ok {
					if _, bad := got[p]; bad {
						t.Errorf("%s: found but never cached", p)
					}
					continue
				}
				want++
				if g, ok := got[p]; !ok || g.Size != e.Size || g.File != e.File {
					t.Errorf("%s: got %+v (found %v), want %+v", p, g, ok, e)
				}
			}
			if len(got) != want {
				t.Errorf("found %d entries, want %d", len(got), want)
			}
		})
	}
}

// ingestFile stores data as one file and returns its File.
func ingestFile(t *testing.T, s *store.Store, data string) dag.TreeEntry {
	t.Helper()
	res, err := s.Ingest(context.Background(), []store.IngestFile{{Path: "f", Open: func() (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(data)), nil
	}}}, store.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return dag.TreeEntry{Mode: dag.ModeFile, ID: res[0].ID, Size: res[0].Size}
}

// forgetWatch is the stat cache's referrer, checking that GC asks it to
// forget while the Files are still stored.
type forgetWatch struct {
	StatCacheReferrer
	t       *testing.T
	s       *store.Store
	watched dag.ID
	forgot  []string
}

func (w *forgetWatch) Forget(ctx context.Context, paths []string) error {
	if ok, err := w.s.Has(ctx, w.watched); err != nil || !ok {
		w.t.Errorf("forget %v: the unreachable File is already deleted (%v)", paths, err)
	}
	w.forgot = append(w.forgot, paths...)
	return w.StatCacheReferrer.Forget(ctx, paths)
}

// TestStatCacheGCAndFsck: gc drops the entries naming unreachable or
// missing Files before it deletes anything, fsck notes those naming a
// missing File.
func TestStatCacheGCAndFsck(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	live := ingestFile(t, s, "kept\n")
	dead := ingestFile(t, s, "collected\n")
	live.Name = "live"
	tb := dag.NewTreeBuilder(ctx, s)
	if err := tb.Add(live); err != nil {
		t.Fatal(err)
	}
	tree, _, err := tb.Finish()
	if err != nil {
		t.Fatal(err)
	}
	enc, err := (&dag.Commit{Tree: tree, Generation: 1, Author: "t", Message: "m", Time: time.Unix(1700000000, 0).UTC()}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	commit, err := s.Put(ctx, dag.KindCommit, enc)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Transaction(ctx, []store.RefUpdate{{Name: "refs/heads/main", New: commit}}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	missing := dag.Hash(dag.KindFile, []byte("never stored"))
	set := map[string]StatEntry{"live": {File: live.ID}, "dead": {File: dead.ID}, "missing": {File: missing}}
	if err := UpdateStatCache(ctx, s, Stats(set), nil); err != nil {
		t.Fatal(err)
	}

	fr, err := s.Fsck(ctx, store.FsckOptions{Referrers: []store.Referrer{StatCacheReferrer{Index: s}}})
	if err != nil {
		t.Fatal(err)
	}
	wantNote := "stat cache entry missing names a missing file (ignored; gc drops it)"
	if !fr.OK() || !slices.Equal(fr.Notes, []string{wantNote}) {
		t.Fatalf("fsck: problems %q, notes %q; want the note %q", fr.Problems, fr.Notes, wantNote)
	}

	w := &forgetWatch{StatCacheReferrer: StatCacheReferrer{Index: s}, t: t, s: s, watched: dead.ID}
	dry, err := s.GC(ctx, store.GCOptions{DryRun: true, Referrers: []store.Referrer{w}})
	if err != nil {
		t.Fatal(err)
	}
	if dry.ReferrerDropped != 1 || len(w.forgot) != 0 {
		t.Fatalf("dry run: %d dropped (want the missing one), forgot %v", dry.ReferrerDropped, w.forgot)
	}
	// Every pack holding a dead object is rewritten, so the dead File
	// leaves the index.
	rep, err := s.GC(ctx, store.GCOptions{RepackBelow: 1, Referrers: []store.Referrer{w}})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(w.forgot)
	if rep.ReferrerDropped != 2 || !slices.Equal(w.forgot, []string{"dead", "missing"}) {
		t.Fatalf("gc: %d dropped, forgot %v; want dead and missing", rep.ReferrerDropped, w.forgot)
	}
	if ok, err := s.Has(ctx, dead.ID); err != nil || ok {
		t.Fatalf("the dead File is still stored (%v): the test checks nothing", err)
	}
	var left []string
	if err := LookupStats(ctx, s, []string{"dead", "live", "missing"}, func(i int, _ StatEntry) {
		left = append(left, []string{"dead", "live", "missing"}[i])
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(left, []string{"live"}) {
		t.Fatalf("stat cache after gc: %v, want live", left)
	}
	fr, err = s.Fsck(ctx, store.FsckOptions{Full: true, Referrers: []store.Referrer{StatCacheReferrer{Index: s}}})
	if err != nil || !fr.OK() || len(fr.Notes) != 0 {
		t.Fatalf("fsck after gc: %v, %+v", err, fr)
	}
}

// BenchmarkLookupStats looks up every path of a 20,000-file worktree, as
// status and commit do.
func BenchmarkLookupStats(b *testing.B) {
	ctx := context.Background()
	s := openStore(b)
	paths, set := statSet(20000, func(i int) string { return fmt.Sprintf("d%02d/f%05d.csv", i%50, i) })
	if err := UpdateStatCache(ctx, s, Stats(set), nil); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		found := 0
		if err := LookupStats(ctx, s, paths, func(int, StatEntry) { found++ }); err != nil || found != len(paths) {
			b.Fatal(found, err)
		}
	}
}

// TestHasStats: a stat cache holds entries in its file or, as an older dx
// kept them, in the index; HasStats says false only when neither has one
// (a scan then stats no file it will read anyway).
func TestHasStats(t *testing.T) {
	ctx := context.Background()
	has := func(s *store.Store) bool {
		t.Helper()
		ok, err := HasStats(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	e := StatEntry{Size: 3, MtimeNs: 1, Mode: dag.ModeFile, File: dag.Hash(dag.KindFile, []byte("x")), Recorded: 2}

	s := openStore(t)
	if has(s) {
		t.Fatal("a new store has stats")
	}
	if err := UpdateStatCache(ctx, s, Stats(map[string]StatEntry{"a": e}), nil); err != nil {
		t.Fatal(err)
	}
	if !has(s) {
		t.Fatal("no stats after an entry is written")
	}
	if err := UpdateStatCache(ctx, s, nil, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	if has(s) {
		t.Fatal("stats after the only entry is deleted")
	}
	// A file that does not decode holds nothing.
	if err := os.WriteFile(filepath.Join(s.Dir(), statFileName), []byte("not a stat cache"), 0o644); err != nil {
		t.Fatal(err)
	}
	if has(s) {
		t.Fatal("a damaged file has stats")
	}

	legacy := openStore(t)
	idx, err := legacy.Derived('s')
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.Put(ctx, "old/entry", e.encode()); err != nil {
		t.Fatal(err)
	}
	if !has(legacy) {
		t.Fatal("an older dx's entry in the index is not seen")
	}
}
