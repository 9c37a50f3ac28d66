package e2e

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
)

// cacheNames lists a directory's names (none when it does not exist).
func cacheNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// s3Get reads key of bucket data (a range of it with rg set) through c.
func s3Get(t *testing.T, c *minio.Client, key string, rg ...int64) ([]byte, string) {
	t.Helper()
	var o minio.GetObjectOptions
	if len(rg) == 2 {
		if err := o.SetRange(rg[0], rg[1]); err != nil {
			t.Fatal(err)
		}
	}
	obj, err := c.GetObject(context.Background(), "data", key, o)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("GET %s %v: %v", key, rg, err)
	}
	st, err := obj.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return b, st.ETag
}

// TestServeFileCache: the first whole GET of a file keeps its decoded
// bytes in .dx/cache/serve, under its File id (the ETag); later GETs,
// whole and at random ranges, equal dx cat's bytes and read no chunk,
// neither from the store nor from the chunk cache: the server decodes as
// many chunks as one GET does without the cache. A restart empties the
// cache; --cache-dir moves it; --cache-size 0 keeps nothing.
func TestServeFileCache(t *testing.T) {
	f := newServeFixture(t)
	dir := f.r.dir
	big := f.cat("main", "data/big.bin")
	cache := filepath.Join(dir, ".dx", "cache", "serve")

	g := startServe(t, dir, "--repo", "data="+dir, "--stats", "--cache-size", "0")
	if got, _ := s3Get(t, minioClient(t, g), "main/data/big.bin"); string(got) != big {
		t.Fatal("GET without a file cache: bytes other than dx cat's")
	}
	oneGet := g.stats()
	if names := cacheNames(t, cache); len(names) != 0 || oneGet["file_cache_fills"] != 0 {
		t.Fatalf("--cache-size 0 kept %q", names)
	}

	g = startServe(t, dir, "--repo", "data="+dir, "--stats")
	c := minioClient(t, g)
	got, etag := s3Get(t, c, "main/data/big.bin")
	if string(got) != big {
		t.Fatal("first GET: bytes other than dx cat's")
	}
	names := cacheNames(t, cache)
	if len(names) != 1 || names[0] != strings.Trim(etag, `"`) {
		t.Fatalf("after a whole GET the cache holds %q, want the file named by its ETag %s", names, etag)
	}
	if kept, err := os.ReadFile(filepath.Join(cache, names[0])); err != nil || string(kept) != big {
		t.Fatalf("the kept copy (%d bytes, %v) is not dx cat's", len(kept), err)
	}
	rng := rand.New(rand.NewPCG(27, 27))
	const ranges = 40
	for range ranges {
		a := rng.Int64N(int64(len(big)))
		z := a + rng.Int64N(min(int64(len(big))-a, 1<<20))
		if got, _ := s3Get(t, c, "main/data/big.bin", a, z); string(got) != big[a:z+1] {
			t.Fatalf("range %d-%d: %d bytes other than dx cat's slice", a, z, len(got))
		}
	}
	if got, _ := s3Get(t, c, "main/data/big.bin"); string(got) != big {
		t.Fatal("second whole GET: bytes other than dx cat's")
	}
	st := g.stats()
	t.Logf("one GET without the file cache: %v; with it, then %d ranges and a GET: %v", oneGet, ranges, st)
	if st["chunks_decoded"] != oneGet["chunks_decoded"] || st["cache_hits"] != 0 {
		t.Errorf("%d chunks decoded and %d chunk cache hits, want %d and 0 (one GET's)", st["chunks_decoded"], st["cache_hits"], oneGet["chunks_decoded"])
	}
	if st["file_cache_fills"] != 1 || st["file_cache_hits"] != ranges+1 {
		t.Errorf("%d copies kept and %d GETs served from them, want 1 and %d", st["file_cache_fills"], st["file_cache_hits"], ranges+1)
	}

	// The copies go when the server stops; those a crash left, when the
	// next starts (a copy cut by a crash is never served), and nothing
	// else in the directory.
	if names := cacheNames(t, cache); len(names) != 0 {
		t.Fatalf("a stopped server left %q in its cache", names)
	}
	for _, n := range []string{strings.Trim(etag, `"`), ".fill-" + strings.Trim(etag, `"`) + "-1", "notes.txt"} {
		writeBytes(t, filepath.Join(cache, n), []byte(big[:100]))
	}
	g = startServe(t, dir, "--repo", "data="+dir)
	if names := cacheNames(t, cache); len(names) != 1 || names[0] != "notes.txt" {
		t.Fatalf("a fresh server's cache holds %q, want only notes.txt", names)
	}
	if got, _ := s3Get(t, minioClient(t, g), "main/data/big.bin"); string(got) != big {
		t.Fatal("GET after a crash's leftovers: bytes other than dx cat's")
	}
	g.stop()
	if err := os.Remove(filepath.Join(cache, "notes.txt")); err != nil {
		t.Fatal(err)
	}

	other := filepath.Join(t.TempDir(), "copies")
	g = startServe(t, dir, "--repo", "data="+dir, "--cache-dir", other, "--cache-size", "64MiB")
	got, etag = s3Get(t, minioClient(t, g), "v1/data/big.bin")
	if string(got) != f.cat("v1", "data/big.bin") {
		t.Fatal("GET of v1: bytes other than dx cat's")
	}
	if names := cacheNames(t, other); len(names) != 1 || names[0] != strings.Trim(etag, `"`) {
		t.Fatalf("--cache-dir holds %q", names)
	}
	if names := cacheNames(t, cache); len(names) != 0 {
		t.Fatalf("with --cache-dir, .dx/cache/serve holds %q", names)
	}
	g.stop()

	for _, bad := range []string{"lots", "-1GiB", "1.5GiB"} {
		res := runDxEnv(t, dir, nil, nil, "serve", "--listen", "127.0.0.1:0", "--anonymous", "--cache-size", bad)
		checkFailure(t, res, "--cache-size", []string{"serve"})
		if res.code != 2 {
			t.Errorf("--cache-size %s: exit %d, want 2", bad, res.code)
		}
	}
	r := f.r
	r.ok("fsck")
	if out := r.ok("status"); strings.Contains(out, "cache") {
		t.Errorf("dx status shows the cache: %s", out)
	}
}
