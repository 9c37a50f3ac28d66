package remote

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dxdata/dx/dag"
)

// pushAfterFirstList passes calls through, and once the first listing of
// refs or index returns, pushes: a push between the two reads.
type pushAfterFirstList struct {
	Backend
	once sync.Once
	push func()
}

func (p *pushAfterFirstList) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	objs, err := p.Backend.List(ctx, prefix)
	if prefix == refsPrefix || prefix == indexPrefix {
		p.once.Do(p.push)
	}
	return objs, err
}

// TestReadHeadsPushBetween: a push that lands between ReadHeads' reads of
// the refs and of the index leaves a fetch of the refs read whole (read
// the other way round, the refs name packs the index lacks).
func TestReadHeadsPushBetween(t *testing.T) {
	ctx := context.Background()
	src := openStore(t)
	be, err := Open(ctx, Config{URL: filepath.Join(t.TempDir(), "remote")})
	if err != nil {
		t.Fatal(err)
	}
	push := func(c dag.ID) {
		ix, err := LoadIndexToWrite(ctx, be, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Push(ctx, src, be, ix, []Update{{Name: "refs/heads/main", New: c, Kind: dag.KindCommit, Force: true}}, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	first, second := commitRandomFile(t, src, 4), commitRandomFile(t, src, 5)
	push(first)
	racing := &pushAfterFirstList{Backend: be, push: func() { push(second) }}
	refs, ix, err := ReadHeads(ctx, racing, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 {
		t.Fatalf("ReadHeads read %d refs; want refs/heads/main", len(refs))
	}
	dst := openStore(t)
	if _, err := Fetch(ctx, dst, be, ix, []dag.Link{{ID: refs[0].ID, Kind: dag.KindCommit}}, Options{}); err != nil {
		t.Fatalf("fetch of the refs read, a push landing between the reads: %v", err)
	}
	if ok, _ := dst.Has(ctx, refs[0].ID); !ok {
		t.Fatal("the fetched commit is not in the store")
	}
}
