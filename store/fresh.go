package store

import (
	"sync"
	"sync/atomic"
)

// A fresh index: one that held no object when this process first looked,
// before it indexed any. While a store holds the index for writing, no
// other process writes to it (badger locks its directory), so every
// object in a fresh index is one this process indexed, and Has answers
// from memory (the pending shards' markers, 64 locks where the object
// index has one) without a lookup in the object index: a first commit of
// many small files looks up every chunk and every File object, all
// missing. The memory is bounded (freshMax objects); past it, and whenever
// objects are deleted from the index (gc), the index is no longer fresh
// and Has looks in the object index again.
type freshIndex struct {
	once sync.Once
	on   atomic.Bool
	n    atomic.Int64 // markers in the pending shards
}

// freshMax caps the markers kept in memory (about 75 bytes each).
const freshMax = 1 << 20

// lookFresh decides, once and before this process indexes anything,
// whether the index is fresh. A read-only store is never fresh: others
// may write the index meanwhile.
func (s *Store) lookFresh() {
	s.fresh.once.Do(func() {
		if s.readOnly {
			return
		}
		s.fresh.on.Store(s.objs.empty())
	})
}

// counted adds n objects to the markers' count, ending freshness
// past freshMax.
func (f *freshIndex) counted(n int, s *Store) {
	if f.on.Load() && f.n.Add(int64(n)) > freshMax {
		s.endFresh()
	}
}

// endFresh makes Has look in the object index from now on (before objects are
// deleted from the index, or when too many are kept in memory).
func (s *Store) endFresh() {
	s.lookFresh() // decided, so that it is not turned on after this
	if s.fresh.on.Swap(false) {
		s.pending.forgetIndexed()
	}
}
