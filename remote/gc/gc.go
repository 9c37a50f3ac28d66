package gc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/remote"
)

// ErrBusy: another collector wrote the state during this run.
var ErrBusy = errors.New("another collector ran at the same time")

// DefaultEventRetention is how long events/ keeps the log of ref moves.
const DefaultEventRetention = 7 * 24 * time.Hour

const clockKey = "gc/clock"

// Options say how a run collects.
type Options struct {
	// Prune removes and condemns; without it the run only reports.
	Prune bool
	// Grace is this run's grace period; zero keeps the remote's.
	Grace time.Duration
	// EventRetention: events older than this are removed; zero is
	// DefaultEventRetention.
	EventRetention time.Duration
	// IndexCache holds the remote's pack indexes between runs; empty: a
	// temporary directory.
	IndexCache string
	Parallel   int
	// RepackBelow: a kept pack whose live share of bytes is below it, and
	// whose dead bytes reach RepackMinDead, is copied without its dead
	// objects and condemned. Zero: the defaults; negative: never.
	RepackBelow   float64
	RepackMinDead int64
	// Keep cuts the branches' history (zero: all is kept).
	Keep Keep
	// Now is this machine's clock, which only a report (no Prune) reads:
	// a prune measures every age by the server's. Default time.Now.
	Now func() time.Time
}

// Bytes is a number of packs and their size.
type Bytes struct {
	Packs int   `json:"packs"`
	Bytes int64 `json:"bytes"`
}

func (b *Bytes) add(n int64) { b.Packs++; b.Bytes += n }

// Report says what a run found and did.
type Report struct {
	Refs  int           `json:"refs"`
	Total Bytes         `json:"total"`
	Grace time.Duration `json:"grace_ns"`
	// Live are the packs kept: holding reachable objects, or what kept
	// packs name.
	Live Bytes `json:"live"`
	// Young are packs no ref reaches that are younger than the grace
	// (pushes on their way); they are kept.
	Young Bytes `json:"young"`
	// Unreachable are the packs no ref reaches, old enough to condemn
	// (Orphans among them: packs without an index).
	Unreachable Bytes `json:"unreachable"`
	Orphans     Bytes `json:"orphans"`
	// DeadInLive is the size of unreachable objects in live packs
	// (reclaimable by a repack).
	DeadInLive int64 `json:"dead_in_live_bytes"`
	// Waiting are the packs an earlier run condemned, until RemovableAt.
	Waiting     Bytes     `json:"waiting"`
	RemovableAt time.Time `json:"removable_at,omitzero"`
	// Removed and Condemned: what this run did (with Prune); Repacked
	// are the packs copied without their dead objects (then condemned),
	// into RepackedInto bytes.
	Removed      Bytes `json:"removed"`
	Condemned    Bytes `json:"condemned"`
	Repacked     Bytes `json:"repacked"`
	RepackedInto int64 `json:"repacked_into_bytes"`
	// Shallow is the number of commits in the remote's shallow list
	// (those whose parents the keep policy cut), Kept the commits the
	// policy keeps (with one).
	Shallow int `json:"shallow"`
	Kept    int `json:"kept_commits,omitempty"`
	// OldEvents are events past their retention (removed with Prune).
	OldEvents Bytes `json:"old_events"`
	Pruned    bool  `json:"pruned"`
	// Requests are those the run made to the remote.
	Requests remote.Requests `json:"requests"`
}

// listing is one prefix's objects by key.
type listing map[string]remote.ObjectInfo

func list(ctx context.Context, be remote.Backend, prefix string) (listing, error) {
	objs, err := be.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	out := make(listing, len(objs))
	for _, o := range objs {
		out[o.Key] = o
	}
	return out, nil
}

// Run collects be's garbage (see the package comment).
func Run(ctx context.Context, be remote.Backend, o Options) (*Report, error) {
	cbe := remote.NewCounting(be)
	rep, err := run(ctx, cbe, o)
	if rep != nil {
		rep.Requests = cbe.Snapshot()
	}
	return rep, err
}

func run(ctx context.Context, be remote.Backend, o Options) (*Report, error) {
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	if o.EventRetention <= 0 {
		o.EventRetention = DefaultEventRetention
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RepackBelow == 0 {
		o.RepackBelow = DefaultRepackBelow
	}
	if o.RepackMinDead == 0 {
		o.RepackMinDead = DefaultRepackMinDead
	}
	state, stateTag, err := remote.ReadGCState(ctx, be)
	if err != nil {
		return nil, err
	}
	grace := o.Grace
	if grace <= 0 {
		grace = state.Grace
	}
	rep := &Report{Grace: grace, Pruned: o.Prune}
	// 1. The server's time now, and when the state was written.
	now, gcObjs, err := serverNow(ctx, be, o.Prune, o.Now)
	if err != nil {
		return nil, err
	}
	var stateAt time.Time
	if stateTag != "" {
		si, ok := gcObjs[remote.GCStateKey]
		if !ok {
			return nil, fmt.Errorf("%s: %s vanished during the run: %w", be, remote.GCStateKey, ErrBusy)
		}
		stateAt = si.Modified
	}
	expired := stateTag == "" || !now.Before(stateAt.Add(state.Wait()))
	// 2. Refs, the shallow list (before the indexes: a push from a shallow
	// clone adds to it after its indexes), packs, indexes and the
	// metadata; mark.
	shallow, err := remote.ReadShallow(ctx, be)
	if err != nil {
		return nil, err
	}
	refs, err := remote.ListRefs(ctx, be)
	if err != nil {
		return nil, err
	}
	packs, err := list(ctx, be, remote.PacksPrefix)
	if err != nil {
		return nil, err
	}
	cache := o.IndexCache
	if cache == "" {
		tmp, err := os.MkdirTemp("", "dx-gc-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		cache = tmp
	}
	ix, err := remote.LoadIndex(ctx, be, cache)
	if err != nil {
		return nil, err
	}
	indexes, err := list(ctx, be, remote.IndexPrefix)
	if err != nil {
		return nil, err
	}
	g, err := loadGraph(ctx, be, ix, o.Parallel, false)
	if err != nil {
		return nil, err
	}
	var roots []dag.ID
	for _, r := range refs {
		roots = append(roots, r.ID)
	}
	rep.Refs = len(refs)
	condemned := map[dag.ID]bool{}
	for _, id := range state.Condemned {
		condemned[id] = true
	}
	// Young: written within the grace, or again since it was condemned.
	young := map[dag.ID]bool{}
	written := func(id dag.ID) time.Time {
		t := packs[remote.PackKey(id)].Modified
		if ii, ok := indexes[remote.IndexKey(id)]; ok && ii.Modified.After(t) {
			t = ii.Modified
		}
		return t
	}
	for id := range g.entries {
		w := written(id)
		if now.Sub(w) < grace || condemned[id] && w.After(stateAt) {
			young[id] = true
		}
	}
	cut := g.policy(refs, o.Keep, now, shallow.IDs)
	rep.Shallow, rep.Kept = len(cut.shallow), len(cut.kept)
	kept, _ := g.mark(roots, young, condemned, cut)
	reached, _ := g.mark(roots, nil, condemned, cut)
	// What must survive a repack, and the packs to repack.
	spare := young // a pack condemned but live again may be repacked

	needed := g.reach(roots, young, cut)
	sparse := g.sparse(kept, spare, needed, o.RepackBelow, o.RepackMinDead)
	// 3. Sort the packs.
	var unreachable []dag.ID
	orphans := map[dag.ID]bool{}
	for key, pi := range packs {
		id, ok := packID(key, remote.PacksPrefix, ".pack")
		if !ok {
			continue
		}
		rep.Total.add(pi.Size)
		_, indexed := g.entries[id]
		switch {
		case !indexed:
			if now.Sub(pi.Modified) < grace {
				rep.Young.add(pi.Size)
				continue
			}
			orphans[id] = true
			rep.Orphans.add(pi.Size)
			rep.Unreachable.add(pi.Size)
			unreachable = append(unreachable, id)
		case young[id] && !reached[id]:
			rep.Young.add(pi.Size)
		case kept[id]:
			rep.Live.add(pi.Size)
			if !spare[id] {
				_, dead := liveShare(g.entries[id], needed)
				rep.DeadInLive += dead
			}
		default:
			rep.Unreachable.add(pi.Size)
			unreachable = append(unreachable, id)
		}
	}
	if stateTag != "" && !expired {
		for _, id := range state.Condemned {
			if pi, ok := packs[remote.PackKey(id)]; ok {
				rep.Waiting.add(pi.Size)
			}
		}
		rep.RemovableAt = stateAt.Add(state.Wait())
	}
	events, err := list(ctx, be, "events/")
	if err != nil {
		return nil, err
	}
	var oldEvents []string
	for key, ei := range events {
		if now.Sub(ei.Modified) > o.EventRetention {
			rep.OldEvents.add(ei.Size)
			oldEvents = append(oldEvents, key)
		}
	}
	if !o.Prune {
		return rep, nil
	}
	// Events are hints (subscribers read refs): old ones just go.
	for _, key := range oldEvents {
		if err := be.Delete(ctx, key); err != nil {
			return nil, err
		}
	}
	if !expired {
		return rep, nil
	}
	// The shallow list names where history is cut before anything below
	// the cut is removed or condemned.
	if err := remote.WriteShallow(ctx, be, shallow, cut.shallow); err != nil {
		if errors.Is(err, remote.ErrPrecondition) {
			return nil, fmt.Errorf("%s: %w", be, ErrBusy)
		}
		return nil, err
	}
	// 4. Remove what the last run condemned and is still unreachable:
	// the index first, so that no index ever names a missing pack.
	for _, id := range state.Condemned {
		pi, ok := packs[remote.PackKey(id)]
		if !ok || kept[id] || young[id] {
			continue
		}
		if _, ok := indexes[remote.IndexKey(id)]; ok {
			if err := be.Delete(ctx, remote.IndexKey(id)); err != nil {
				return nil, err
			}
		}
		if err := be.Delete(ctx, remote.PackKey(id)); err != nil {
			return nil, err
		}
		rep.Removed.add(pi.Size)
	}
	// 5. Condemn what is unreachable now and was not just removed, and
	// the packs copied without their dead objects.
	next := remote.GCState{Grace: grace, PrevGrace: state.Grace, Round: state.Round + 1}
	for id := range sparse {
		_, n, err := repack(ctx, be, id, g.entries[id], needed)
		if err != nil {
			return nil, err
		}
		next.Condemned = append(next.Condemned, id)
		rep.Condemned.add(packs[remote.PackKey(id)].Size)
		rep.Repacked.add(packs[remote.PackKey(id)].Size)
		rep.RepackedInto += n
	}
	if stateTag == "" && len(packs) == 0 {
		next.PrevGrace = 0 // nobody can have relied on an empty remote
	}
	for _, id := range unreachable {
		if condemned[id] {
			continue // removed above
		}
		next.Condemned = append(next.Condemned, id)
		rep.Condemned.add(packs[remote.PackKey(id)].Size)
	}
	if _, err := be.Swap(ctx, remote.GCStateKey, stateTag, remote.EncodeGCState(next)); err != nil {
		if errors.Is(err, remote.ErrPrecondition) {
			return nil, fmt.Errorf("%s: %w", be, ErrBusy)
		}
		return nil, err
	}
	rep.Unreachable.Packs -= rep.Removed.Packs
	rep.Unreachable.Bytes -= rep.Removed.Bytes
	return rep, nil
}

// serverNow is the server's time: the modification time of an object
// written now (with write; else this machine's clock), and the listing
// of gc/.
func serverNow(ctx context.Context, be remote.Backend, write bool, local func() time.Time) (time.Time, listing, error) {
	if write {
		b := []byte(local().UTC().Format(time.RFC3339Nano) + "\n")
		if err := be.Put(ctx, clockKey, bytes.NewReader(b), int64(len(b))); err != nil {
			return time.Time{}, nil, err
		}
	}
	objs, err := list(ctx, be, "gc/")
	if err != nil {
		return time.Time{}, nil, err
	}
	if !write {
		return local(), objs, nil
	}
	ci, ok := objs[clockKey]
	if !ok || ci.Modified.IsZero() {
		return time.Time{}, nil, fmt.Errorf("%s: %s: the server gives no modification time", be, clockKey)
	}
	return ci.Modified, objs, nil
}

// packID parses a pack's or index's key.
func packID(key, prefix, suffix string) (dag.ID, bool) {
	name, ok := strings.CutSuffix(strings.TrimPrefix(key, prefix), suffix)
	if !ok {
		return dag.ID{}, false
	}
	id, err := dag.ParseID(name)
	return id, err == nil
}
