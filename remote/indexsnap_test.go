package remote

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/pack"
)

// snapRemote is a directory remote whose packs are known only by their
// indexes (all an Index reads), and the oracle: every pack's entries.
type snapRemote struct {
	be    Backend
	packs map[dag.ID][]pack.Entry
	ids   []dag.ID // every object ID, some in several packs
}

// newSnapRemote opens an empty directory remote.
func newSnapRemote(t *testing.T) *snapRemote {
	t.Helper()
	be, err := Open(context.Background(), Config{URL: filepath.Join(t.TempDir(), "r")})
	if err != nil {
		t.Fatal(err)
	}
	return &snapRemote{be: be, packs: map[dag.ID][]pack.Entry{}}
}

// addPacks writes n indexes of packs of per objects each; about one
// object in ten is also in an earlier pack.
func (sr *snapRemote) addPacks(t *testing.T, r *rand.Rand, n, per int) []dag.ID {
	t.Helper()
	var added []dag.ID
	for range n {
		seen := map[dag.ID]bool{}
		var ids []dag.ID
		for range per {
			id := dag.Hash(dag.KindChunk, []byte{byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())})
			if len(sr.ids) > 0 && r.IntN(10) == 0 {
				id = sr.ids[r.IntN(len(sr.ids))] // the same object again
			}
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		added = append(added, sr.addPackOf(t, ids))
	}
	return added
}

// addPackOf writes the index of a pack of objects ids (their bytes do
// not matter to an index) and returns its ID.
func (sr *snapRemote) addPackOf(t *testing.T, ids []dag.ID) dag.ID {
	t.Helper()
	var buf bytes.Buffer
	w, err := pack.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		data := []byte(id.String()[:16+i%40])
		if _, err := w.Add(id, dag.KindChunk, pack.CodecRaw, data, len(data)); err != nil {
			t.Fatal(err)
		}
	}
	pid, footer, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	entries, err := pack.DecodeIndex(footer)
	if err != nil {
		t.Fatal(err)
	}
	if err := sr.be.Put(context.Background(), indexKey(pid), bytes.NewReader(footer), int64(len(footer))); err != nil {
		t.Fatal(err)
	}
	sr.packs[pid] = entries
	sr.ids = append(sr.ids, ids...)
	return pid
}

// check compares every answer of ix with the oracle; condemned packs'
// locations are taken only where no other pack holds the object.
func (sr *snapRemote) check(t *testing.T, ix *Index, condemned map[dag.ID]bool, what string) {
	t.Helper()
	holders := map[dag.ID][]dag.ID{}
	for p, es := range sr.packs {
		for _, e := range es {
			holders[e.ID] = append(holders[e.ID], p)
		}
	}
	for id, ps := range holders {
		l, ok := ix.Lookup(id)
		if !ok || !slices.Contains(ps, l.Pack) || l.Entry.ID != id {
			t.Fatalf("%s: Lookup %s = %v %v, held by %v", what, id.Short(), l.Pack.Short(), ok, ps)
		}
		if i := slices.IndexFunc(sr.packs[l.Pack], func(e pack.Entry) bool { return e.ID == id }); sr.packs[l.Pack][i] != l.Entry {
			t.Fatalf("%s: Lookup %s: entry %+v differs from its pack's", what, id.Short(), l.Entry)
		}
		// A writer never relies on a condemned pack; it finds another
		// holder at least when that one is outside the snapshot (which
		// keeps one location an object: a writer whose only known
		// location is condemned sends the object again).
		free := slices.ContainsFunc(ps, func(p dag.ID) bool { return !condemned[p] })
		freeOutside := slices.ContainsFunc(ps, func(p dag.ID) bool { return !condemned[p] && !ix.snapPacks[p] })
		if reusable := ix.Reusable(id); reusable && !free || !reusable && freeOutside {
			t.Fatalf("%s: Reusable %s = %v; held by %v, condemned %v", what, id.Short(), reusable, ps, condemned)
		}
	}
	for range 200 {
		var id dag.ID
		for i := range id {
			id[i] = byte(rand.Uint32())
		}
		if ix.Has(id) {
			t.Fatalf("%s: Has an object no pack holds", what)
		}
	}
	got := ix.Packs()
	if len(got) != len(sr.packs) {
		t.Fatalf("%s: %d packs, want %d", what, len(got), len(sr.packs))
	}
	for _, p := range got {
		if !slices.Equal(ix.PackEntries(p), sr.packs[p]) {
			t.Fatalf("%s: PackEntries %s differ", what, p.Short())
		}
	}
}

// TestIndexSnapshot: loads through the cache's snapshot answer as the
// indexes read whole do, as packs are added, one is removed, a pack is
// condemned, and the snapshot is damaged; and a load with a snapshot
// decodes only the indexes added since it was written.
func TestIndexSnapshot(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, 8))
	sr := newSnapRemote(t)
	be := sr.be
	cache := filepath.Join(t.TempDir(), "cache")
	snapPath := filepath.Join(cache, snapName)
	load := func(what string) *Index {
		t.Helper()
		ix, err := LoadIndex(ctx, be, cache)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		sr.check(t, ix, nil, what)
		return ix
	}

	sr.addPacks(t, r, 4, 200) // under snapMin: no snapshot
	if ix := load("small"); ix.snap != nil {
		t.Fatal("a snapshot of a small remote")
	}
	if _, err := os.Stat(snapPath); !os.IsNotExist(err) {
		t.Fatalf("snapshot written for %d objects: %v", len(sr.ids), err)
	}
	sr.addPacks(t, r, 20, 300)
	load("grown") // writes the snapshot
	ix := load("from the snapshot")
	if ix.snap == nil || len(ix.objs) != 0 {
		t.Fatalf("snapshot not used: %v, %d objects outside it", ix.snap != nil, len(ix.objs))
	}
	added := sr.addPacks(t, r, 2, 300)
	ix = load("snapshot and two new packs")
	newIDs := map[dag.ID]bool{}
	for _, p := range added {
		for _, e := range sr.packs[p] {
			newIDs[e.ID] = true
		}
	}
	if want := len(newIDs); len(ix.objs) != want {
		t.Fatalf("%d objects decoded outside the snapshot, want the new packs' %d", len(ix.objs), want)
	}

	// A pack the remote no longer lists: the snapshot is dropped.
	var gone dag.ID
	for p := range ix.snapPacks {
		gone = p
		break
	}
	if err := be.Delete(ctx, indexKey(gone)); err != nil {
		t.Fatal(err)
	}
	delete(sr.packs, gone)
	if ix = load("a pack removed"); ix.snap != nil && ix.snapPacks[gone] {
		t.Fatal("the snapshot still covers a removed pack")
	}
	if ix = load("rebuilt"); ix.snap == nil || len(ix.objs) != 0 {
		t.Fatal("no snapshot rebuilt after a pack was removed")
	}

	// Condemned: a writer's index locates an object elsewhere if it can.
	var dup dag.ID
	for p := range ix.snapPacks {
		dup = p
		break
	}
	if dup.IsZero() {
		t.Fatal("no pack in the snapshot")
	}
	// As a collector's repack does: dup's objects copied into a new pack
	// (outside the snapshot), dup condemned.
	var dupIDs []dag.ID
	for _, e := range sr.packs[dup] {
		dupIDs = append(dupIDs, e.ID)
	}
	slices.Reverse(dupIDs) // (in the same order, the same pack)
	repacked := sr.addPackOf(t, dupIDs)
	gs := GCState{Grace: time.Hour, PrevGrace: time.Hour, Condemned: []dag.ID{dup}}
	b := EncodeGCState(gs)
	if err := be.Put(ctx, GCStateKey, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatal(err)
	}
	wix, err := LoadIndexToWrite(ctx, be, cache)
	if err != nil {
		t.Fatal(err)
	}
	sr.check(t, wix, map[dag.ID]bool{dup: true}, "condemned")
	// And the other way: the new pack condemned, the snapshot's kept.
	gs.Condemned = []dag.ID{repacked}
	b = EncodeGCState(gs)
	if err := be.Put(ctx, GCStateKey, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatal(err)
	}
	if wix, err = LoadIndexToWrite(ctx, be, cache); err != nil {
		t.Fatal(err)
	}
	if wix.snap == nil || !wix.snapPacks[dup] || wix.snapPacks[repacked] {
		t.Fatalf("not the case meant: snap %v, dup in %v, repacked in %v", wix.snap != nil, wix.snapPacks[dup], wix.snapPacks[repacked])
	}
	sr.check(t, wix, map[dag.ID]bool{repacked: true}, "condemned outside the snapshot")
	for _, id := range dupIDs {
		if !wix.Reusable(id) {
			t.Fatalf("%s: not reusable, though %s holds it", id.Short(), dup.Short())
		}
	}

	// A damaged snapshot is dropped, whatever the damage.
	for i, damage := range []func([]byte) []byte{
		func(b []byte) []byte { return b[:len(b)/2] },
		func(b []byte) []byte { return append([]byte("garbage!"), b[8:]...) },
		func(b []byte) []byte { return nil },
	} {
		raw, err := os.ReadFile(snapPath)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(snapPath, damage(raw), 0o644); err != nil {
			t.Fatal(err)
		}
		load("damaged " + string(rune('a'+i)))
		load("after damage " + string(rune('a'+i)))
	}
}

// TestIndexSnapshotTemp: a load leaves a snapshot's temporary file that
// may still be being written, and removes one a crashed writer left an
// hour ago or more.
func TestIndexSnapshotTemp(t *testing.T) {
	ctx := context.Background()
	sr := newSnapRemote(t)
	be := sr.be
	sr.addPacks(t, rand.New(rand.NewPCG(1, 2)), 2, 50)
	cache := t.TempDir()
	fresh, stale := filepath.Join(cache, "snapshot-1.tmp"), filepath.Join(cache, "snapshot-2.tmp")
	for _, p := range []string{fresh, stale} {
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	ix, err := LoadIndex(ctx, be, cache)
	if err != nil {
		t.Fatal(err)
	}
	sr.check(t, ix, nil, "with temporary files")
	if _, err := os.Stat(fresh); err != nil {
		t.Fatalf("a fresh temporary file was removed: %v", err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("a stale temporary file was kept: %v", err)
	}
}

// TestIndexSnapshotMergeAvoidsCondemned: a writer's load that writes a
// new snapshot keeps, for an object in a condemned pack and in a new one,
// the new pack's location, so that a later load finds the object
// reusable from the snapshot alone.
func TestIndexSnapshotMergeAvoidsCondemned(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	sr := newSnapRemote(t)
	be := sr.be
	cache := t.TempDir()
	old := sr.addPacks(t, r, 20, 300)
	if _, err := LoadIndex(ctx, be, cache); err != nil { // writes the snapshot
		t.Fatal(err)
	}
	ix, err := LoadIndex(ctx, be, cache)
	if err != nil || ix.snap == nil || !ix.snapPacks[old[0]] {
		t.Fatalf("no snapshot covering the old packs: %v", err)
	}
	// The old packs' objects again, in new packs (a collector's repack);
	// the old packs condemned.
	var moved []dag.ID
	seen := map[dag.ID]bool{}
	for _, p := range old {
		for _, e := range sr.packs[p] {
			if !seen[e.ID] {
				seen[e.ID] = true
				moved = append(moved, e.ID)
			}
		}
	}
	slices.Reverse(moved)
	var repacks []dag.ID
	for len(moved) > 0 {
		n := min(len(moved), 1000)
		repacks = append(repacks, sr.addPackOf(t, moved[:n]))
		moved = moved[n:]
	}
	// Objects the snapshot does not hold yet, enough for the next load
	// to write a new one (the repacked ones alone do not count).
	sr.addPacks(t, r, 16, 300)
	gs := GCState{Grace: time.Hour, PrevGrace: time.Hour, Condemned: old}
	b := EncodeGCState(gs)
	if err := be.Put(ctx, GCStateKey, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadIndexToWrite(ctx, be, cache); err != nil { // writes the merged snapshot
		t.Fatal(err)
	}
	wix, err := LoadIndexToWrite(ctx, be, cache)
	if err != nil {
		t.Fatal(err)
	}
	if wix.snap == nil || !wix.snapPacks[repacks[0]] {
		t.Fatal("the repacks are not in the snapshot")
	}
	before, err := os.Stat(filepath.Join(cache, snapName))
	if err != nil {
		t.Fatal(err)
	}
	condemned := map[dag.ID]bool{}
	for _, p := range old {
		condemned[p] = true
	}
	sr.check(t, wix, condemned, "merged")
	for _, p := range old {
		for _, e := range sr.packs[p] {
			if !wix.Reusable(e.ID) {
				t.Fatalf("%s: not reusable from the snapshot, though a repack holds it", e.ID.Short())
			}
		}
	}
	// The condemned packs, all of whose objects the snapshot locates in
	// the repacks, are decoded at each load but do not make it write the
	// same snapshot again.
	if _, err := LoadIndexToWrite(ctx, be, cache); err != nil {
		t.Fatal(err)
	}
	if after, err := os.Stat(filepath.Join(cache, snapName)); err != nil || !os.SameFile(before, after) {
		t.Fatalf("the snapshot was written again (%v)", err)
	}
}
