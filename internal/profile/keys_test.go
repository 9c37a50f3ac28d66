package profile

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/check"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
)

// TestKeyNames: every cache key Compute writes (spans, their tails, the
// file) names only the table's chunks and the File's id, and every chunk
// is named; a key of another encoding version names nothing and is of no
// use.
func TestKeyNames(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	next := 0
	src := newMemSourceCut(writeCSV(genRows(rng, 3000, &next)), 100)
	file := dag.ID{1, 2, 3}
	cache := newMemCache()
	tb := Table{Version: check.Version{Path: "t", Source: src, Cut: merge.DiffOptions{Aligned: true}}, Spec: table.Spec{Format: table.CSV, Key: []string{"id"}}, ID: file}
	if _, _, err := Compute(context.Background(), tb, cache); err != nil {
		t.Fatal(err)
	}
	chunks := map[dag.ID]bool{}
	for _, c := range src.Chunks() {
		chunks[c.ID] = false
	}
	var tails, files int
	for k := range cache.m {
		var named []dag.ID
		if !KeyNames([]byte(k), func(id dag.ID) { named = append(named, id) }) || len(named) == 0 {
			t.Fatalf("key %q: of no use, or names nothing", k)
		}
		switch {
		case k[0] == 'f':
			files++
			if len(named) != 1 || named[0] != file {
				t.Fatalf("the file's key names %v", named)
			}
			continue
		case strings.HasSuffix(k, "t") && cache.m[strings.TrimSuffix(k, "t")] != nil:
			tails++ // a span's tail (its head's key, and "t")
		}
		for _, id := range named {
			if _, ok := chunks[id]; !ok {
				t.Fatalf("key names %s, no chunk of the table", id.Short())
			}
			chunks[id] = true
		}
	}
	for id, seen := range chunks {
		if !seen {
			t.Fatalf("chunk %s named by no key", id.Short())
		}
	}
	if files != 1 || tails == 0 {
		t.Fatalf("%d file keys and %d tail keys: the table does not test them", files, tails)
	}
	for k := range cache.m {
		old := k[:1] + string(rune(encodingVersion-1)) + k[2:]
		if KeyNames([]byte(old), func(dag.ID) { t.Fatal("an old key names an object") }) {
			t.Fatalf("a key of version %d is of use", encodingVersion-1)
		}
		break
	}
}
