package remote

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/storetest"
	"github.com/dxdata/dx/store"
)

// flaky passes calls through to a real backend but fails ranged reads
// after the first few, as a dropped connection would.
type flaky struct {
	Backend
	okRanges int64
	ranges   atomic.Int64
	read     atomic.Int64
}

var errDropped = errors.New("connection reset by peer")

func (f *flaky) GetRange(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	if f.okRanges >= 0 && f.ranges.Add(1) > f.okRanges {
		return nil, errDropped
	}
	f.read.Add(n)
	return f.Backend.GetRange(ctx, key, off, n)
}

func openStore(t *testing.T) *store.Store { return storetest.Open(t) }

// commitRandomFile stores a commit of one file of n random chunks.
func commitRandomFile(t *testing.T, st *store.Store, n int) dag.ID {
	t.Helper()
	return storetest.Commit(t, st, dag.Commit{Tree: storetest.RandomTree(t, st, 1, n)})
}

// TestFetchResumes: a fetch cut off part way keeps the chunks it verified
// (and nothing else: no metadata, so no ref can name a partial commit); the
// retry downloads only the rest.
func TestFetchResumes(t *testing.T) {
	ctx := context.Background()
	src := openStore(t)
	commit := commitRandomFile(t, src, 96) // 6 MiB of incompressible chunks
	be, err := Open(ctx, Config{URL: filepath.Join(t.TempDir(), "remote")})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := LoadIndexToWrite(ctx, be, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{PackSize: 1 << 20, Parallel: 1}
	if _, err := Push(ctx, src, be, ix, []Update{{Name: "refs/heads/main", New: commit, Kind: dag.KindCommit}}, opts); err != nil {
		t.Fatal(err)
	}

	dst := openStore(t)
	cache := t.TempDir()
	ix, err = LoadIndex(ctx, be, cache)
	if err != nil {
		t.Fatal(err)
	}
	// Metadata takes a range or two; then three data ranges succeed.
	cut := &flaky{Backend: be, okRanges: 5}
	if _, err := Fetch(ctx, dst, cut, ix, []dag.Link{{ID: commit, Kind: dag.KindCommit}}, opts); !errors.Is(err, errDropped) {
		t.Fatalf("cut-off fetch: %v, want the dropped connection", err)
	}
	if ok, _ := dst.Has(ctx, commit); ok {
		t.Fatal("the commit was kept although its data did not all arrive")
	}
	firstRead := cut.read.Load()
	kept := dst.Stats().Snapshot()["packs_written"]
	if kept == 0 {
		t.Fatal("the verified chunks of the cut-off fetch were not kept")
	}
	rep, err := dst.Fsck(ctx, store.FsckOptions{Full: true})
	if err != nil || !rep.OK() {
		t.Fatalf("fsck after a cut-off fetch: %v %v", err, rep.Problems)
	}

	again := &flaky{Backend: be, okRanges: -1}
	res, err := Fetch(ctx, dst, again, ix, []dag.Link{{ID: commit, Kind: dag.KindCommit}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	total := int64(96 * (64<<10 + 100))
	t.Logf("cut-off fetch read %d bytes; the retry read %d (%d chunks) of about %d", firstRead, again.read.Load(), res.Chunks, total)
	if res.Chunks >= 96 || again.read.Load() >= total {
		t.Fatalf("the retry fetched %d chunks again", res.Chunks)
	}
	rep, err = dst.Fsck(ctx, store.FsckOptions{Full: true, ExtraRoots: []dag.ID{commit}})
	if err != nil || !rep.OK() {
		t.Fatalf("fsck after the retry: %v %v", err, rep.Problems)
	}
	var out countWriter
	if _, err := dst.CopyFile(ctx, fileOf(t, dst, commit), &out, store.CopyOptions{}); err != nil || out.n != 96*64<<10 {
		t.Fatalf("read back %d bytes: %v", out.n, err)
	}
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(b []byte) (int, error) { c.n += int64(len(b)); return len(b), nil }

func fileOf(t *testing.T, st *store.Store, commit dag.ID) dag.ID {
	t.Helper()
	ctx := context.Background()
	c, err := dag.LoadCommit(ctx, st, commit)
	if err != nil {
		t.Fatal(err)
	}
	e, err := dag.LookupPath(ctx, st, c.Tree, "data.bin")
	if err != nil {
		t.Fatal(err)
	}
	return e.ID
}

// TestFetchMetadataReachesBack: a push writes a commit after the objects
// it names, so the fetch of a commit whose new trees nest four deep takes
// one GET, not one a level, and stores only what the local store lacked.
func TestFetchMetadataReachesBack(t *testing.T) {
	ctx := context.Background()
	src, dst := openStore(t), openStore(t)
	tree1 := storetest.RandomTree(t, src, 1, 4)
	c1 := storetest.Commit(t, src, dag.Commit{Tree: tree1})
	e, err := dag.LookupPath(ctx, src, tree1, "data.bin")
	if err != nil {
		t.Fatal(err)
	}
	// The same file in a/b/c/d: d's tree is the old root's; the root, a, b
	// and c are new.
	tree2, err := dag.EditTree(ctx, src, src, tree1, map[string]*dag.TreeEntry{"a/b/c/d/data.bin": &e})
	if err != nil {
		t.Fatal(err)
	}
	c2 := storetest.Commit(t, src, dag.Commit{Tree: tree2, Parents: []dag.ID{c1}, Generation: 2})

	be, err := Open(ctx, Config{URL: filepath.Join(t.TempDir(), "remote")})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Parallel: 1}
	push := func(c dag.ID) {
		t.Helper()
		ix, err := LoadIndexToWrite(ctx, be, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Push(ctx, src, be, ix, []Update{{Name: "refs/heads/main", New: c, Kind: dag.KindCommit}}, opts); err != nil {
			t.Fatal(err)
		}
	}
	fetch := func(c dag.ID) (*FetchResult, int64) {
		t.Helper()
		ix, err := LoadIndex(ctx, be, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		res, err := Fetch(ctx, dst, be, ix, []dag.Link{{ID: c, Kind: dag.KindCommit}}, opts)
		if err != nil {
			t.Fatal(err)
		}
		return res, res.Requests
	}
	push(c1)
	if res, gets := fetch(c1); gets != 2 {
		t.Fatalf("the first fetch took %d GETs (%+v), want 2: one of metadata, one of chunks", gets, res)
	}
	push(c2)
	res, gets := fetch(c2)
	if gets != 1 || res.Objects != 5 || res.Chunks != 0 {
		t.Fatalf("the fetch of four new trees took %d GETs and stored %d objects (%d chunks), want 1 GET and 5 objects: the commit and its trees", gets, res.Objects, res.Chunks)
	}
	rep, err := dst.Fsck(ctx, store.FsckOptions{Full: true, ExtraRoots: []dag.ID{c2}})
	if err != nil || !rep.OK() {
		t.Fatalf("fsck after the fetch: %v %v", err, rep.Problems)
	}
}
