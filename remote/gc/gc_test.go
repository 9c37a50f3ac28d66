package gc

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/storetest"
	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/store"
	"github.com/dxdata/dx/store/pack"
)

const grace = time.Second

// sleepGrace waits out the grace, with a margin for the coarse clock
// that stamps files' modification times.
func sleepGrace() { time.Sleep(grace + 100*time.Millisecond) }

// randomTree stores a tree of one file of n random 64 KiB chunks.
func randomTree(t *testing.T, st *store.Store, seed uint64, n int) dag.ID {
	return storetest.RandomTree(t, st, seed, n)
}

// commit stores a commit of tree.
func commit(t *testing.T, st *store.Store, tree dag.ID, msg string) dag.ID {
	return storetest.Commit(t, st, dag.Commit{Tree: tree, Message: msg})
}

type fixture struct {
	t  *testing.T
	be remote.Backend
	st *store.Store
}

func newFixture(t *testing.T) *fixture {
	be, err := remote.Open(context.Background(), remote.Config{URL: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, be: be, st: storetest.Open(t)}
	// A first run on the empty remote sets its grace for every writer.
	f.gc(true)
	return f
}

func (f *fixture) index() *remote.Index {
	ix, err := remote.LoadIndexToWrite(context.Background(), f.be, f.t.TempDir())
	if err != nil {
		f.t.Fatal(err)
	}
	return ix
}

func (f *fixture) push(ix *remote.Index, branch string, id dag.ID) (*remote.PushResult, error) {
	if ix == nil {
		ix = f.index()
	}
	return remote.Push(context.Background(), f.st, f.be, ix, []remote.Update{{Name: "refs/heads/" + branch, New: id, Kind: dag.KindCommit, Force: true}}, remote.Options{})
}

func (f *fixture) mustPush(ix *remote.Index, branch string, id dag.ID) *remote.PushResult {
	f.t.Helper()
	res, err := f.push(ix, branch, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

func (f *fixture) delete(branch string) {
	f.t.Helper()
	ctx := context.Background()
	ref, err := remote.ReadRef(ctx, f.be, "refs/heads/"+branch)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := remote.DeleteRef(ctx, f.be, ref); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) gc(prune bool) *Report {
	f.t.Helper()
	rep, err := Run(context.Background(), f.be, Options{Prune: prune, Grace: grace})
	if err != nil {
		f.t.Fatal(err)
	}
	return rep
}

// keys lists the remote's packs and indexes.
func (f *fixture) keys() []string {
	f.t.Helper()
	var out []string
	for _, p := range []string{remote.PacksPrefix, remote.IndexPrefix} {
		objs, err := f.be.List(context.Background(), p)
		if err != nil {
			f.t.Fatal(err)
		}
		for _, o := range objs {
			out = append(out, o.Key)
		}
	}
	return out
}

// clone fetches a commit into a fresh store: every object it names must
// be on the remote and match its id.
func (f *fixture) clone(id dag.ID) error {
	st := storetest.Open(f.t)
	_, err := remote.Fetch(context.Background(), st, f.be, f.index(), []dag.Link{{ID: id, Kind: dag.KindCommit}}, remote.Options{})
	return err
}

// indexesNameOnlyPacks checks that no index names a missing pack.
func (f *fixture) indexesNameOnlyPacks() {
	f.t.Helper()
	keys := f.keys()
	for _, k := range keys {
		if id, ok := packID(k, remote.IndexPrefix, ".idx"); ok && !slices.Contains(keys, remote.PackKey(id)) {
			f.t.Errorf("%s names a pack that is gone", k)
		}
	}
}

func TestCollectsDeletedBranch(t *testing.T) {
	f := newFixture(t)
	a := commit(t, f.st, randomTree(t, f.st, 1, 80), "a")
	b := commit(t, f.st, randomTree(t, f.st, 2, 60), "b")
	f.mustPush(nil, "a", a)
	before := f.keys()
	f.mustPush(nil, "b", b)
	withB := f.keys()
	f.delete("b")
	// A report writes nothing; young packs are not condemned.
	if rep := f.gc(false); rep.Young.Packs != len(withB)/2-len(before)/2 || rep.Unreachable.Packs != 0 {
		t.Fatalf("report of fresh packs: %+v", rep)
	}
	sleepGrace()
	rep := f.gc(false)
	if rep.Unreachable.Packs != len(withB)/2-len(before)/2 || rep.Removed.Packs != 0 {
		t.Fatalf("report after the grace: %+v", rep)
	}
	if !slices.Equal(f.keys(), withB) {
		t.Fatal("a report changed the remote")
	}
	if rep := f.gc(true); rep.Condemned.Packs != 2 || rep.Removed.Packs != 0 {
		t.Fatalf("first prune: %+v", rep)
	}
	if !slices.Equal(f.keys(), withB) {
		t.Fatal("condemning removed something")
	}
	// Too early: the condemned packs wait for the grace.
	if rep := f.gc(true); rep.Removed.Packs != 0 || rep.Waiting.Packs != 2 {
		t.Fatalf("prune within the grace: %+v", rep)
	}
	sleepGrace()
	rep = f.gc(true)
	if rep.Removed.Packs != 2 || rep.Removed.Bytes <= 60*64<<10 {
		t.Fatalf("prune after the grace: %+v", rep)
	}
	// Requests follow the packs and refs, not the 140 chunks.
	if n, bound := rep.Requests.Total(), int64(3*(rep.Total.Packs+rep.Refs)+20); n > bound {
		t.Fatalf("%d requests for %d packs and %d refs: %+v", n, rep.Total.Packs, rep.Refs, rep.Requests)
	}
	if got := f.keys(); !slices.Equal(got, before) {
		t.Fatalf("left %q, want %q", got, before)
	}
	if err := f.clone(a); err != nil {
		t.Fatal(err)
	}
	f.indexesNameOnlyPacks()
}

// TestStaleWriterKeepsWhatItReused: a push that read the remote before a
// collector condemned the packs it reuses moves its ref within the grace,
// so the next run finds them live again.
func TestStaleWriterKeepsWhatItReused(t *testing.T) {
	f := newFixture(t)
	tree := randomTree(t, f.st, 3, 6)
	b := commit(t, f.st, tree, "b")
	f.mustPush(nil, "b", b)
	f.delete("b")
	sleepGrace()
	stale := f.index() // read before the condemnation
	if rep := f.gc(true); rep.Condemned.Packs != 2 {
		t.Fatalf("%+v", rep)
	}
	c := commit(t, f.st, tree, "c: b's tree again")
	res := f.mustPush(stale, "c", c)
	if res.BytesSent > 64<<10 {
		t.Fatalf("the stale push sent %d bytes: it should reuse b's chunks", res.BytesSent)
	}
	sleepGrace()
	if rep := f.gc(true); rep.Removed.Packs != 0 {
		t.Fatalf("removed packs a ref names again: %+v", rep)
	}
	if err := f.clone(c); err != nil {
		t.Fatal(err)
	}
}

// TestFreshWriterSendsCondemnedAgain: a push that read the state after
// the condemnation does not reuse condemned packs, and its ref stays
// whole.
func TestFreshWriterSendsCondemnedAgain(t *testing.T) {
	f := newFixture(t)
	tree := randomTree(t, f.st, 4, 6)
	f.mustPush(nil, "b", commit(t, f.st, tree, "b"))
	f.delete("b")
	sleepGrace()
	if rep := f.gc(true); rep.Condemned.Packs != 2 {
		t.Fatalf("%+v", rep)
	}
	c := commit(t, f.st, tree, "c")
	if res := f.mustPush(nil, "c", c); res.BytesSent < 6*64<<10 {
		t.Fatalf("sent %d bytes: condemned chunks were reused", res.BytesSent)
	}
	// The same chunks packed again make the same pack, written anew
	// after its condemnation: it stays; b's metadata, sent again with c's,
	// goes.
	sleepGrace()
	if rep := f.gc(true); rep.Removed.Packs != 1 || rep.Live.Packs != 2 {
		t.Fatalf("%+v", rep)
	}
	if err := f.clone(c); err != nil {
		t.Fatal(err)
	}
	f.indexesNameOnlyPacks()
}

// TestWriterWindow: a push that relied on the remote for longer than
// its grace goes on when no collector ran meanwhile, or one ran that
// condemned none of the packs it relies on; it gives up, moving no ref,
// when a run condemned one of them or two runs passed.
func TestWriterWindow(t *testing.T) {
	ctx := context.Background()
	noRef := func(f *fixture, branch string) {
		t.Helper()
		if ref, err := remote.ReadRef(ctx, f.be, "refs/heads/"+branch); err != nil || !ref.ID.IsZero() {
			t.Fatalf("%s moved: %v %v", branch, ref, err)
		}
	}
	t.Run("no collector", func(t *testing.T) {
		f := newFixture(t)
		old := f.index()
		sleepGrace()
		f.mustPush(old, "a", commit(t, f.st, randomTree(t, f.st, 5, 2), "a"))
	})
	t.Run("a run condemning nothing it uses", func(t *testing.T) {
		f := newFixture(t)
		f.mustPush(nil, "x", commit(t, f.st, randomTree(t, f.st, 6, 2), "x"))
		f.delete("x")
		sleepGrace()
		old := f.index()
		if rep := f.gc(true); rep.Condemned.Packs != 2 {
			t.Fatalf("%+v", rep)
		}
		sleepGrace()
		f.mustPush(old, "a", commit(t, f.st, randomTree(t, f.st, 7, 2), "a"))
	})
	t.Run("a run condemning what it reuses", func(t *testing.T) {
		f := newFixture(t)
		tree := randomTree(t, f.st, 8, 4)
		f.mustPush(nil, "x", commit(t, f.st, tree, "x"))
		f.delete("x")
		sleepGrace()
		old := f.index()
		f.gc(true)
		sleepGrace()
		if _, err := f.push(old, "a", commit(t, f.st, tree, "a: x's tree")); !errors.Is(err, remote.ErrGCWindow) {
			t.Fatalf("push: %v, want ErrGCWindow", err)
		}
		noRef(f, "a")
	})
	t.Run("two runs", func(t *testing.T) {
		f := newFixture(t)
		old := f.index()
		sleepGrace()
		f.gc(true)
		sleepGrace()
		f.gc(true)
		if _, err := f.push(old, "a", commit(t, f.st, randomTree(t, f.st, 9, 2), "a")); !errors.Is(err, remote.ErrGCWindow) {
			t.Fatalf("push: %v, want ErrGCWindow", err)
		}
		noRef(f, "a")
	})
}

// failingDelete fails the deletion of packs: a collector killed between
// an index and its pack.
type failingDelete struct{ remote.Backend }

func (b failingDelete) Delete(ctx context.Context, key string) error {
	if strings.HasPrefix(key, remote.PacksPrefix) {
		return errors.New("killed")
	}
	return b.Backend.Delete(ctx, key)
}

func TestInterruptedRemovalFinishesLater(t *testing.T) {
	f := newFixture(t)
	a := commit(t, f.st, randomTree(t, f.st, 6, 4), "a")
	f.mustPush(nil, "a", a)
	before := f.keys()
	f.mustPush(nil, "b", commit(t, f.st, randomTree(t, f.st, 7, 4), "b"))
	f.delete("b")
	sleepGrace()
	f.gc(true)
	sleepGrace()
	if rep, err := Run(context.Background(), failingDelete{f.be}, Options{Prune: true, Grace: grace}); err == nil {
		t.Fatalf("no error from the interrupted run: %+v", rep)
	}
	f.indexesNameOnlyPacks()
	// The packs left without an index are condemned, then removed.
	if rep := f.gc(true); rep.Orphans.Packs != 1 {
		t.Fatalf("%+v", rep)
	}
	sleepGrace()
	f.gc(true)
	if got := f.keys(); !slices.Equal(got, before) {
		t.Fatalf("left %q, want %q", got, before)
	}
	if err := f.clone(a); err != nil {
		t.Fatal(err)
	}
}

// TestMarkKeepsWhatKeptPacksName: an unreachable object in a kept pack
// keeps the packs of what it names, so that the indexes stay closed.
func TestMarkKeepsWhatKeptPacksName(t *testing.T) {
	id := func(b byte) dag.ID { return dag.ID{b} }
	entry := func(b byte, k dag.Kind) pack.Entry { return pack.Entry{ID: id(b), Kind: k} }
	g := &Graph{
		links: map[dag.ID][]dag.ID{id(1): {id(10)}, id(2): {id(20)}, id(3): {id(30)}},
		packs: map[dag.ID][]dag.ID{},
		entries: map[dag.ID][]pack.Entry{
			id(100): {entry(1, dag.KindCommit), entry(2, dag.KindCommit)}, // 1 live, 2 not
			id(101): {entry(10, dag.KindTree)},
			id(102): {entry(20, dag.KindTree)}, // named by 2 only
			id(103): {entry(3, dag.KindCommit)},
			id(104): {entry(30, dag.KindTree)}, // named by 3 only
			id(105): {entry(40, dag.KindChunk)},
		},
	}
	for p, es := range g.entries {
		for _, e := range es {
			g.packs[e.ID] = append(g.packs[e.ID], p)
		}
	}
	kept, _ := g.mark([]dag.ID{id(1)}, map[dag.ID]bool{id(105): true}, nil, nil)
	for p, want := range map[byte]bool{100: true, 101: true, 102: true, 103: false, 104: false, 105: true} {
		if kept[id(p)] != want {
			t.Errorf("pack %d kept %v, want %v", p, kept[id(p)], want)
		}
	}
}

// TestCollectorClockSkew: a collector whose clock is an hour off, ahead
// or behind, condemns and removes exactly when one with a true clock
// does: a prune measures ages by the server's clock.
func TestCollectorClockSkew(t *testing.T) {
	for _, skew := range []time.Duration{time.Hour, -time.Hour} {
		f := newFixture(t)
		run := func() *Report {
			t.Helper()
			rep, err := Run(context.Background(), f.be, Options{Prune: true, Grace: grace, Now: func() time.Time { return time.Now().Add(skew) }})
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}
		f.mustPush(nil, "a", commit(t, f.st, randomTree(t, f.st, 8, 2), "a"))
		f.mustPush(nil, "b", commit(t, f.st, randomTree(t, f.st, 9, 2), "b"))
		f.delete("b")
		if rep := run(); rep.Condemned.Packs != 0 || rep.Young.Packs != 2 {
			t.Fatalf("skew %v: packs younger than the grace: %+v", skew, rep)
		}
		sleepGrace()
		if rep := run(); rep.Condemned.Packs != 2 {
			t.Fatalf("skew %v: %+v", skew, rep)
		}
		if rep := run(); rep.Removed.Packs != 0 || rep.Waiting.Packs != 2 {
			t.Fatalf("skew %v: removed within the grace: %+v", skew, rep)
		}
		sleepGrace()
		if rep := run(); rep.Removed.Packs != 2 {
			t.Fatalf("skew %v: %+v", skew, rep)
		}
	}
}

// TestRepackDropsDeadObjects: branches pushed together share packs; when
// one is deleted, the packs mostly its are copied without its objects
// (and so is the metadata that named them), the old ones condemned and
// removed a grace later. Nothing is left in two packs that both go.
func TestRepackDropsDeadObjects(t *testing.T) {
	f := newFixture(t)
	a := commit(t, f.st, randomTree(t, f.st, 20, 2), "a")
	b := commit(t, f.st, randomTree(t, f.st, 21, 40), "b")
	if _, err := remote.Push(context.Background(), f.st, f.be, f.index(), []remote.Update{
		{Name: "refs/heads/a", New: a, Kind: dag.KindCommit}, {Name: "refs/heads/b", New: b, Kind: dag.KindCommit},
	}, remote.Options{}); err != nil {
		t.Fatal(err)
	}
	f.delete("b")
	sleepGrace()
	rep := f.gc(true)
	if rep.Repacked.Packs == 0 || rep.Condemned.Packs != rep.Repacked.Packs || rep.RepackedInto > 256<<10 || rep.DeadInLive < 40*64<<10 {
		t.Fatalf("first prune: %+v", rep)
	}
	if err := f.clone(a); err != nil {
		t.Fatal(err)
	}
	sleepGrace()
	repacked := rep.Repacked.Packs
	if rep = f.gc(true); rep.Removed.Packs != repacked || rep.Removed.Bytes < 40*64<<10 {
		t.Fatalf("second prune: %+v", rep)
	}
	var left int64
	objs, _ := f.be.List(context.Background(), remote.PacksPrefix)
	for _, o := range objs {
		left += o.Size
	}
	if left > 256<<10 {
		t.Fatalf("%d bytes of packs left for a's 128 KiB", left)
	}
	if err := f.clone(a); err != nil {
		t.Fatal(err)
	}
	f.indexesNameOnlyPacks()
	if rep := f.gc(true); rep.Repacked.Packs != 0 || rep.DeadInLive != 0 {
		t.Fatalf("third prune: %+v", rep)
	}
}
