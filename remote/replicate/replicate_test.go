package replicate

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/storetest"
	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/store"
)

func openStore(t *testing.T) *store.Store { return storetest.Open(t) }

// openDirAt opens a directory remote and returns its directory too.
func openDirAt(t *testing.T) (remote.Backend, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "a")
	be, err := remote.Open(context.Background(), remote.Config{URL: dir})
	if err != nil {
		t.Fatal(err)
	}
	return be, dir
}

func openDir(t *testing.T) remote.Backend {
	t.Helper()
	be, err := remote.Open(context.Background(), remote.Config{URL: filepath.Join(t.TempDir(), "remote")})
	if err != nil {
		t.Fatal(err)
	}
	return be
}

// commit stores a commit of one file of n random 64 KiB chunks (seeded)
// on top of parent.
func commit(t *testing.T, st *store.Store, seed uint64, n int, parent dag.ID) dag.ID {
	t.Helper()
	c := dag.Commit{Tree: storetest.RandomTree(t, st, seed, n), Time: time.Unix(int64(seed), 0)}
	if !parent.IsZero() {
		pc, err := dag.LoadCommit(context.Background(), st, parent)
		if err != nil {
			t.Fatal(err)
		}
		c.Parents, c.Generation = []dag.ID{parent}, pc.Generation+1
	}
	return storetest.Commit(t, st, c)
}

// push sends commit id as ref to be, in packs of 1 MiB so that there are
// several.
func push(t *testing.T, st *store.Store, be remote.Backend, ref string, id dag.ID) {
	t.Helper()
	ctx := context.Background()
	ix, err := remote.LoadIndexToWrite(ctx, be, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ups := []remote.Update{{Name: ref, New: id, Kind: dag.KindCommit}}
	if _, err := remote.Push(ctx, st, be, ix, ups, remote.Options{PackSize: 1 << 20, Parallel: 2}); err != nil {
		t.Fatal(err)
	}
}

// sizes lists the objects under prefix with their sizes.
func sizes(t *testing.T, be remote.Backend, prefix string) map[string]int64 {
	t.Helper()
	objs, err := be.List(context.Background(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, o := range objs {
		out[o.Key] = o.Size
	}
	return out
}

// checkValid checks what a reader of be relies on: every object in its
// index has what it names in the index, and every ref names an indexed
// object. It returns the refs.
func checkValid(t *testing.T, be remote.Backend) map[string]dag.ID {
	t.Helper()
	ctx := context.Background()
	ix, err := remote.LoadIndex(ctx, be, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	objs := &objects{be: be, ix: ix}
	for _, p := range ix.Packs() {
		for _, e := range ix.PackEntries(p) {
			if !e.Kind.IsMeta() {
				continue
			}
			raw, err := objs.Get(ctx, e.Kind, e.ID)
			if err != nil {
				t.Fatal(err)
			}
			links, err := dag.Links(e.Kind, raw, true)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range links {
				if !ix.Has(l.ID) {
					t.Fatalf("%s: indexed %s %s names %s, which is not indexed", be, e.Kind, e.ID.Short(), l.ID.Short())
				}
			}
		}
	}
	refs, err := remote.ListRefs(ctx, be)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]dag.ID{}
	for _, r := range refs {
		if !ix.Has(r.ID) {
			t.Fatalf("%s: %s names %s, which is not indexed", be, r.Name, r.ID.Short())
		}
		out[r.Name] = r.ID
	}
	return out
}

// TestReplicateCopiesWhatIsNew: the first run copies every pack, the
// second (after one more commit) only the new ones, byte for byte, and a
// run with nothing new reads the refs alone.
func TestReplicateCopiesWhatIsNew(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	a, b := openDir(t), openDir(t)
	c1 := commit(t, st, 1, 40, dag.ZeroID)
	push(t, st, a, "refs/heads/main", c1)
	res, err := Replicate(ctx, a, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sizes(t, b, "packs/"), sizes(t, a, "packs/"); len(got) != len(want) || res.Packs != len(want) {
		t.Fatalf("copied %d packs (%d on the destination), the source has %d", res.Packs, len(got), len(want))
	}
	if refs := checkValid(t, b); refs["refs/heads/main"] != c1 {
		t.Fatalf("destination refs %v", refs)
	}
	if evs := sizes(t, b, "events/"); len(evs) != 1 {
		t.Fatalf("%d events on the destination, want 1", len(evs))
	}

	before := sizes(t, a, "packs/")
	c2 := commit(t, st, 2, 20, c1)
	push(t, st, a, "refs/heads/main", c2)
	var newBytes int64
	for k, n := range sizes(t, a, "packs/") {
		if _, ok := before[k]; !ok {
			newBytes += n
		}
	}
	res, err = Replicate(ctx, a, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.PackBytes != newBytes || res.Refs[0].Status != Updated {
		t.Fatalf("copied %d pack bytes, the new packs are %d; ref %s", res.PackBytes, newBytes, res.Refs[0].Status)
	}
	if refs := checkValid(t, b); refs["refs/heads/main"] != c2 {
		t.Fatalf("destination refs %v", refs)
	}

	res, err = Replicate(ctx, a, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, d := res.Src, res.Dst
	if s.List != 1 || s.Get != 1 || s.Put != 0 || d.List != 0 || d.Get != 1 || d.Put != 0 || res.Refs[0].Status != UpToDate {
		t.Fatalf("a run with nothing new made src %+v dst %+v requests", res.Src, res.Dst)
	}
}

// replicated is a store and two directory remotes, the second a replica
// of the first, whose main is c1.
func replicated(t *testing.T) (st *store.Store, a, b remote.Backend, c1 dag.ID) {
	t.Helper()
	st = openStore(t)
	a, b = openDir(t), openDir(t)
	c1 = commit(t, st, 1, 4, dag.ZeroID)
	push(t, st, a, "refs/heads/main", c1)
	if _, err := Replicate(context.Background(), a, b, Options{}); err != nil {
		t.Fatal(err)
	}
	return st, a, b, c1
}

// TestReplicateDiverged: a destination branch that moved on its own is
// left as it was, reported, and the other branches still move.
func TestReplicateDiverged(t *testing.T) {
	ctx := context.Background()
	st, a, b, c1 := replicated(t)
	other := commit(t, st, 7, 4, c1)
	push(t, st, b, "refs/heads/main", other) // moved on B on its own
	push(t, st, a, "refs/heads/main", commit(t, st, 2, 4, c1))
	push(t, st, a, "refs/heads/dev", commit(t, st, 3, 4, c1))
	res, err := Replicate(ctx, a, b, Options{})
	if !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), "main") {
		t.Fatalf("err %v, want main diverged", err)
	}
	got := map[string]Status{}
	for _, rr := range res.Refs {
		got[rr.Name] = rr.Status
	}
	if got["refs/heads/main"] != Diverged || got["refs/heads/dev"] != Created {
		t.Fatalf("statuses %v", got)
	}
	if refs := checkValid(t, b); refs["refs/heads/main"] != other {
		t.Fatal("the diverged branch was overwritten")
	}
	if _, err := Replicate(ctx, a, b, Options{Refs: []string{"nope"}}); !errors.Is(err, ErrUnknownRef) {
		t.Fatalf("unknown branch: %v", err)
	}
}

// TestReplicateRefusesCorruptPack: a flipped byte in a source pack stops
// the copy of that pack, and no ref moves.
func TestReplicateRefusesCorruptPack(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	a, dir := openDirAt(t)
	b := openDir(t)
	push(t, st, a, "refs/heads/main", commit(t, st, 1, 8, dag.ZeroID))
	for k, n := range sizes(t, a, "packs/") {
		if n < 256<<10 {
			continue // a metadata pack
		}
		p := filepath.Join(dir, filepath.FromSlash(k))
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		raw[len(raw)/2] ^= 1
		if err := os.WriteFile(p, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		break
	}
	_, err := Replicate(ctx, a, b, Options{})
	if !errors.Is(err, remote.ErrIntegrity) {
		t.Fatalf("err %v, want an integrity error", err)
	}
	if refs := checkValid(t, b); len(refs) != 0 {
		t.Fatalf("refs moved after a corrupt pack: %v", refs)
	}
}

// faulty fails the n-th write to a backend, half the time in the middle
// of the body, and counts the writes that completed per key.
type faulty struct {
	remote.Backend
	mu     sync.Mutex
	n      int // fail the n-th write; 0: none
	writes int
	done   map[string]int
}

var errFault = errors.New("injected fault")

func (f *faulty) fail() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	return f.writes == f.n
}

func (f *faulty) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if f.fail() {
		if f.n%2 == 0 {
			return errFault
		}
		r = io.MultiReader(io.LimitReader(r, size/2), errReader{})
	}
	if err := f.Backend.Put(ctx, key, r, size); err != nil {
		return err
	}
	f.mu.Lock()
	f.done[key]++
	f.mu.Unlock()
	return nil
}

func (f *faulty) Swap(ctx context.Context, key, oldTag string, data []byte) (string, error) {
	if f.fail() {
		return "", errFault
	}
	return f.Backend.Swap(ctx, key, oldTag, data)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errFault }

// TestReplicateInterrupted: a replication cut at each of its writes in
// turn leaves a destination that never names a missing object, and the
// rerun completes it without writing any pack or index twice.
func TestReplicateInterrupted(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	a := openDir(t)
	c1 := commit(t, st, 1, 30, dag.ZeroID)
	push(t, st, a, "refs/heads/main", c1)
	push(t, st, a, "refs/heads/main", commit(t, st, 2, 20, c1))
	push(t, st, a, "refs/tags/v1", c1)
	want := checkValid(t, a)
	for n := 1; ; n++ {
		b := openDir(t)
		f := &faulty{Backend: b, n: n, done: map[string]int{}}
		_, err := Replicate(ctx, a, f, Options{All: true, Parallel: 2})
		if err == nil {
			if n == 1 {
				t.Fatal("no write failed")
			}
			t.Logf("cut at each of %d writes", n-1)
			return
		}
		if !errors.Is(err, errFault) {
			t.Fatalf("write %d: %v", n, err)
		}
		checkValid(t, b)
		f.n = 0
		if _, err := Replicate(ctx, a, f, Options{All: true, Parallel: 2}); err != nil {
			t.Fatalf("rerun after write %d: %v", n, err)
		}
		if got := checkValid(t, b); len(got) != len(want) || got["refs/heads/main"] != want["refs/heads/main"] {
			t.Fatalf("after write %d and a rerun: refs %v, want %v", n, got, want)
		}
		for k, c := range f.done {
			if c > 1 && !strings.HasPrefix(k, "events/") {
				t.Fatalf("after a cut at write %d, %s was written %d times", n, k, c)
			}
		}
		if len(sizes(t, b, "packs/")) != len(sizes(t, a, "packs/")) {
			t.Fatalf("after write %d: packs differ", n)
		}
	}
}

// racer moves a ref of its backend the first time an index is written, as
// another writer would in the middle of a replication.
type racer struct {
	remote.Backend
	once     sync.Once
	ref      string
	to       dag.ID
	swapErrs error
}

func (r *racer) Put(ctx context.Context, key string, rd io.Reader, size int64) error {
	if strings.HasPrefix(key, remote.IndexPrefix) {
		r.once.Do(func() {
			cur, err := remote.ReadRef(ctx, r.Backend, r.ref)
			if err == nil {
				_, err = remote.SwapRef(ctx, r.Backend, r.ref, cur.Tag, r.to)
			}
			r.swapErrs = err
		})
	}
	return r.Backend.Put(ctx, key, rd, size)
}

// TestReplicateLosesRace: a destination ref that moves while the packs
// are copied is not overwritten: the swap loses and the ref is reported
// as diverged.
func TestReplicateLosesRace(t *testing.T) {
	ctx := context.Background()
	st, a, b, c1 := replicated(t)
	other := commit(t, st, 9, 2, c1)
	push(t, st, b, "refs/heads/other", other)
	push(t, st, a, "refs/heads/main", commit(t, st, 2, 4, c1))
	r := &racer{Backend: b, ref: "refs/heads/main", to: other}
	res, err := Replicate(ctx, a, r, Options{Refs: []string{"main"}})
	if r.swapErrs != nil {
		t.Fatal(r.swapErrs)
	}
	if !errors.Is(err, ErrDiverged) || res.Refs[0].Status != Diverged {
		t.Fatalf("err %v, want main diverged", err)
	}
	if refs := checkValid(t, b); refs["refs/heads/main"] != other {
		t.Fatal("the ref that moved meanwhile was overwritten")
	}
}

// TestReplicateDeletes: a branch deleted on the source is deleted on the
// destination, by compare-and-swap, with an event, whether every branch
// or that one by name is replicated; a destination branch that moved on
// its own is left, as diverged; a branch the source never had stays.
func TestReplicateDeletes(t *testing.T) {
	ctx := context.Background()
	st, a, b, c1 := replicated(t)
	dev := commit(t, st, 2, 4, c1)
	push(t, st, a, "refs/heads/dev", dev)
	exp := commit(t, st, 3, 4, c1)
	push(t, st, a, "refs/heads/exp", exp)
	push(t, st, a, "refs/heads/gone", commit(t, st, 4, 4, c1))
	if _, err := Replicate(ctx, a, b, Options{}); err != nil {
		t.Fatal(err)
	}
	own := commit(t, st, 5, 4, exp)
	push(t, st, b, "refs/heads/exp", own)   // moved on B on its own
	push(t, st, b, "refs/heads/local", own) // B's own branch
	for _, name := range []string{"refs/heads/dev", "refs/heads/exp", "refs/heads/gone"} {
		r, err := remote.ReadRef(ctx, a, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.DeleteRef(ctx, a, r); err != nil {
			t.Fatal(err)
		}
	}
	before := sizes(t, b, "events/")
	// By name first: only that branch goes.
	res, err := Replicate(ctx, a, b, Options{Refs: []string{"gone"}})
	if err != nil || len(res.Refs) != 1 || res.Refs[0].Status != Deleted {
		t.Fatalf("by name: %+v, %v", res, err)
	}
	res, err = Replicate(ctx, a, b, Options{})
	if !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), "exp") {
		t.Fatalf("err %v, want exp diverged", err)
	}
	got := map[string]Status{}
	for _, rr := range res.Refs {
		got[rr.Name] = rr.Status
	}
	want := map[string]Status{"refs/heads/main": UpToDate, "refs/heads/dev": Deleted, "refs/heads/exp": Diverged, "refs/heads/gone": UpToDate}
	if len(got) != len(want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("statuses %v, want %v", got, want)
		}
	}
	refs := checkValid(t, b)
	if _, ok := refs["refs/heads/dev"]; ok {
		t.Fatal("dev is still on the destination")
	}
	if refs["refs/heads/exp"] != own || refs["refs/heads/local"] != own || refs["refs/heads/main"] != c1 {
		t.Fatalf("destination refs %v", refs)
	}
	var deletes int
	for k := range sizes(t, b, "events/") {
		if _, ok := before[k]; ok {
			continue
		}
		raw, _, err := b.Get(ctx, k, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		var ev remote.Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.New.IsZero() && (ev.Ref == "refs/heads/dev" || ev.Ref == "refs/heads/gone") {
			deletes++
		}
	}
	if deletes != 2 {
		t.Fatalf("%d delete events on the destination, want 2", deletes)
	}
	// Nothing left to do: a rerun moves nothing and fails on nothing but exp.
	res, err = Replicate(ctx, a, b, Options{})
	if !errors.Is(err, ErrDiverged) || moved(res) || res.Dst.Put != 0 {
		t.Fatalf("rerun: %+v, %v", res, err)
	}
	// A branch re-created on the source comes back.
	push(t, st, a, "refs/heads/dev", dev)
	if _, err := Replicate(ctx, a, b, Options{Refs: []string{"dev"}}); err != nil {
		t.Fatal(err)
	}
	if checkValid(t, b)["refs/heads/dev"] != dev {
		t.Fatal("dev was not re-created")
	}
}

// TestReplicateDamagedMetadata: packs of chunks are copied while the
// metadata packs are still being read; when one of those turns out
// damaged, the run fails with the destination valid and its refs
// unmoved, and the rerun (the pack repaired) completes without writing
// any pack or index twice.
func TestReplicateDamagedMetadata(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	a, dir := openDirAt(t)
	push(t, st, a, "refs/heads/main", commit(t, st, 1, 40, dag.ZeroID))
	want := checkValid(t, a)
	var metaPath string
	for k, n := range sizes(t, a, "packs/") {
		if n < 256<<10 {
			metaPath = filepath.Join(dir, filepath.FromSlash(k))
		}
	}
	metaRaw, err := os.ReadFile(metaPath)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), metaRaw...)
	bad[len(bad)-200] ^= 1 // in its last objects, after those naming chunks
	if err := os.WriteFile(metaPath, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	b := openDir(t)
	f := &faulty{Backend: b, done: map[string]int{}}
	if _, err := Replicate(ctx, a, f, Options{Parallel: 2}); !errors.Is(err, remote.ErrIntegrity) {
		t.Fatalf("err %v, want an integrity error", err)
	}
	if refs := checkValid(t, b); len(refs) != 0 {
		t.Fatalf("refs moved after a damaged metadata pack: %v", refs)
	}
	t.Logf("packs copied before the damage was found: %d", len(sizes(t, b, "packs/")))
	if err := os.WriteFile(metaPath, metaRaw, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Replicate(ctx, a, f, Options{Parallel: 2}); err != nil {
		t.Fatal(err)
	}
	if got := checkValid(t, b); got["refs/heads/main"] != want["refs/heads/main"] {
		t.Fatalf("refs %v, want %v", got, want)
	}
	for k, c := range f.done {
		if c > 1 && !strings.HasPrefix(k, "events/") {
			t.Fatalf("%s was written %d times", k, c)
		}
	}
}
