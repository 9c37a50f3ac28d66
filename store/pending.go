package store

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/pack"
)

// pendingObj is an object added to a pack that is not yet indexed; stored
// is its bytes in the pack's memory buffer. While the index is fresh
// (fresh.go), an object this process indexed stays in its shard as a
// marker (indexed), which Has answers from.
type pendingObj struct {
	stored []byte
	raw    uint32
	kind   dag.Kind
	codec  pack.Codec
	// reserved: a writer has claimed the id and is adding the object;
	// nothing else is set yet.
	reserved bool
	// indexed: a marker of an object indexed while the index was fresh,
	// not a pending object.
	indexed bool
}

// pendingShards is the number of locks the pending objects are spread
// over, by their ID's first byte: each chunk an ingest worker stores and
// each File object a collector puts takes one a few times, and with a
// single lock the collectors of a commit of many small files queued on it.
const pendingShards = 64

// pendingSet holds the objects added to packs and not yet indexed and,
// while the index is fresh (fresh.go), markers of those this process has
// indexed: one map, so that a writer's claim of a new object looks in
// one place (a first commit of 200,000 files spent a tenth of its CPU in
// these maps, when the markers were a set of their own).
type pendingSet struct {
	shards [pendingShards]pendingShard
}

type pendingShard struct {
	mu sync.Mutex
	m  map[dag.ID]pendingObj
	_  [48]byte // one shard to a cache line
}

func newPendingSet() *pendingSet {
	ps := &pendingSet{}
	for i := range ps.shards {
		ps.shards[i].m = map[dag.ID]pendingObj{}
	}
	return ps
}

func (ps *pendingSet) shard(id dag.ID) *pendingShard {
	return &ps.shards[id[0]%pendingShards]
}

// reservePending makes room for about n objects about to be stored, where
// they will all stay in the pending set: while the index is fresh, whose
// markers stay (up to freshMax). Otherwise objects leave as their packs
// are indexed, and the shards stay as small as that keeps them.
func (s *Store) reservePending(n int) {
	s.lookFresh()
	if s.fresh.on.Load() {
		s.pending.reserve(min(n, freshMax))
	}
}

// reserve sizes the empty shards for about n objects in all: a commit of
// many small files, whose shards grew by doubling, allocated twice their
// final size and rehashed each entry along the way.
func (ps *pendingSet) reserve(n int) {
	per := n / pendingShards
	if per < 64 {
		return
	}
	for i := range ps.shards {
		sh := &ps.shards[i]
		sh.mu.Lock()
		if len(sh.m) == 0 {
			sh.m = make(map[dag.ID]pendingObj, per)
		}
		sh.mu.Unlock()
	}
}

// set records id's pending entry.
func (ps *pendingSet) set(id dag.ID, p pendingObj) {
	sh := ps.shard(id)
	sh.mu.Lock()
	sh.m[id] = p
	sh.mu.Unlock()
}

// unclaim forgets id if it is only claimed (its writer failed).
func (ps *pendingSet) unclaim(id dag.ID) {
	sh := ps.shard(id)
	sh.mu.Lock()
	if p := sh.m[id]; p.reserved {
		delete(sh.m, id)
	}
	sh.mu.Unlock()
}

// forgetIndexed drops the markers of indexed objects (the index is no
// longer fresh).
func (ps *pendingSet) forgetIndexed() {
	for i := range ps.shards {
		sh := &ps.shards[i]
		sh.mu.Lock()
		for id, p := range sh.m {
			if p.indexed {
				delete(sh.m, id)
			}
		}
		sh.mu.Unlock()
	}
}

// settledPending calls fn, under id's shard lock, with id's pending entry
// once no writer's claim is on it (ok false: id is not pending) and
// whether this process indexed id while the index was fresh. A claimed
// object is not in a pack yet, and whoever asks may go on to write objects
// that name it; the claim is held for one copy into a buffer.
func (s *Store) settledPending(id dag.ID, fn func(p pendingObj, ok, indexed bool)) {
	sh := s.pending.shard(id)
	for {
		sh.mu.Lock()
		switch p, ok := sh.m[id]; {
		case ok && p.indexed:
			fn(pendingObj{}, false, true)
		case !ok || !p.reserved:
			fn(p, ok, false)
		default:
			sh.mu.Unlock()
			runtime.Gosched()
			continue
		}
		sh.mu.Unlock()
		return
	}
}

// claimIfNew claims id for the caller, who is to add it to a pack, unless
// it is stored or pending: Has and a claim under one lock, one
// lookup of the pending shard where they took two each (a first commit of
// 200,000 files spent a tenth of its CPU in these maps).
func (s *Store) claimIfNew(id dag.ID) (claimed bool, err error) {
	s.lookFresh()
	sh := s.pending.shard(id)
	s.settledPending(id, func(_ pendingObj, pending, indexed bool) {
		// Freshness is read under the shard's lock: it ends before the
		// markers are dropped, which takes this lock.
		switch fresh := s.fresh.on.Load(); {
		case pending, fresh && indexed:
			return
		case !fresh:
			s.stats.IndexLookups.Add(1)
			_, found, ferr := s.objs.find(id)
			if ferr != nil || found {
				err = ferr
				return
			}
		}
		sh.m[id] = pendingObj{reserved: true}
		claimed = true
	})
	if err != nil {
		return false, fmt.Errorf("store has: %w", err)
	}
	return claimed, nil
}

// isPending reports whether id is pending (see settledPending).
func (s *Store) isPending(id dag.ID) (pending bool) {
	s.settledPending(id, func(_ pendingObj, ok, _ bool) { pending = ok })
	return pending
}

// pendingGet returns the pending object id (see settledPending); false if
// it is not pending. The stored bytes are a copy: the pack buffer is
// recycled once the object leaves pending.
func (s *Store) pendingGet(id dag.ID) (p pendingObj, ok bool) {
	s.settledPending(id, func(e pendingObj, found, _ bool) {
		if found {
			p, ok = e, true
			p.stored = append([]byte(nil), e.stored...)
		}
	})
	return p, ok
}

// dropPending forgets pending objects that were discarded (not indexed).
func (s *Store) dropPending(es []pack.Entry) {
	for _, e := range es {
		sh := s.pending.shard(e.ID)
		sh.mu.Lock()
		if p, ok := sh.m[e.ID]; ok && !p.indexed {
			delete(sh.m, e.ID)
		}
		sh.mu.Unlock()
	}
}

// markIndexed settles objects just indexed (in the object index, which
// they were added to first, so that Has finds them in one place or the
// other at every moment): while the index is fresh each becomes a marker,
// otherwise it leaves the pending set.
func (s *Store) markIndexed(es []pack.Entry) {
	marked := 0
	for _, e := range es {
		sh := s.pending.shard(e.ID)
		sh.mu.Lock()
		// Freshness is read under the shard's lock: it ends before the
		// markers are dropped, which takes this lock.
		if s.fresh.on.Load() {
			sh.m[e.ID] = pendingObj{indexed: true}
			marked++
		} else {
			delete(sh.m, e.ID)
		}
		sh.mu.Unlock()
	}
	if marked > 0 {
		s.fresh.counted(marked, s)
	}
}
