package remote

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/dxdata/dx/dag"
)

// TestOversizedObjectsRefused: a hostile directory remote whose ref,
// FORMAT or index files are huge (sparse: nothing on disk) is refused
// without reading them into memory. Read whole, as they were, sixteen
// refs of a GiB each are read at once (a first version of this test, with
// a GiB ref and FORMAT and a 3 GiB index, was killed for lack of memory).
func TestOversizedObjectsRefused(t *testing.T) {
	idx := indexKey(dag.Hash(dag.KindChunk, []byte("x")))
	cases := []struct {
		name, key string
		size      int64
		call      func(ctx context.Context, be Backend, cache string) error
	}{
		{"ref", "refs/heads/main", 256 << 20, func(ctx context.Context, be Backend, _ string) error {
			_, err := ListRefs(ctx, be)
			return err
		}},
		{"format", formatKey, 256 << 20, func(ctx context.Context, be Backend, _ string) error {
			return CheckFormat(ctx, be)
		}},
		{"index", idx, 1200 << 20 /* more than pack.MaxIndexSize */, func(ctx context.Context, be Backend, cache string) error {
			_, err := LoadIndex(ctx, be, cache)
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "remote")
			p := filepath.Join(dir, filepath.FromSlash(c.key))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(p, c.size); err != nil {
				t.Fatal(err)
			}
			be, err := Open(context.Background(), Config{URL: dir})
			if err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err = c.call(context.Background(), be, filepath.Join(t.TempDir(), "cache"))
			runtime.ReadMemStats(&after)
			if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
				t.Errorf("allocated %d MiB for a %d MiB object", got>>20, c.size>>20)
			}
			if err == nil || !strings.Contains(err.Error(), "too large") {
				t.Errorf("err = %v, want a too-large error", err)
			}
		})
	}
}
