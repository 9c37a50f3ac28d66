package store

import (
	"context"
	"runtime"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/pack"
)

var _ dag.Putter = (*Store)(nil)

// pendingObj is an object added to a pack that is not yet indexed; stored
// is its bytes in the pack's memory buffer.
type pendingObj struct {
	stored []byte
	entry  pack.Entry
	// reserved: a writer has claimed the id and is adding the object;
	// stored and entry are not set yet.
	reserved bool
}

// Put stores an object and returns its ID; an object already stored is not
// written again.
func (s *Store) Put(ctx context.Context, kind dag.Kind, data []byte) (dag.ID, error) {
	id := dag.Hash(kind, data)
	if ok, err := s.Has(ctx, id); err != nil || ok {
		return id, err
	}
	var stored []byte
	codec := pack.CodecRaw
	if len(data) < 128 {
		// Tiny objects (the File node of a one-chunk file) do not
		// compress; skip the attempt.
		stored = data
	} else {
		stored, codec = s.comp.Compress(nil, data)
	}
	_, err := s.putNew(int(s.nextPacker.Add(1)), id, kind, len(data), stored, codec)
	return id, err
}

// putNew adds an object the caller found missing (with Has) in its stored
// form, unless another writer has added it since; it reports whether the
// object was added. Data objects go to data packer packerHint modulo their
// number: concurrent writers that pass different values do not wait on
// each other.
func (s *Store) putNew(packerHint int, id dag.ID, kind dag.Kind, raw int, stored []byte, codec pack.Codec) (bool, error) {
	// Claim the id, so that no other writer adds it to another pack.
	// Another writer's claim is waited out (it fails, or the object is
	// in its pack): the caller goes on to write objects that name this
	// one, which must not go into a pack handed on before it.
	claimed := false
	s.settledPending(id, func(_ *pendingObj, ok bool) {
		if !ok {
			s.pending[id] = pendingObj{reserved: true}
			claimed = true
		}
	})
	if !claimed {
		return false, nil
	}
	p := s.metaPacker
	if !kind.IsMeta() {
		p = s.dataPackers[uint(packerHint)%uint(len(s.dataPackers))]
	}
	p.mu.Lock()
	err := p.add(id, kind, codec, stored, raw)
	p.mu.Unlock()
	if err != nil {
		s.pendingMu.Lock()
		if p := s.pending[id]; p.reserved {
			delete(s.pending, id)
		}
		s.pendingMu.Unlock()
		return false, err
	}
	if kind.IsMeta() {
		s.stats.MetaWritten.Add(1)
		s.stats.MetaBytesStored.Add(int64(len(stored)))
		s.stats.MetaBytesRaw.Add(int64(raw))
	} else {
		s.stats.ChunksWritten.Add(1)
		s.stats.DataBytesStored.Add(int64(len(stored)))
		s.stats.DataBytesRaw.Add(int64(raw))
	}
	return true, nil
}

// settledPending calls fn, under pendingMu, with id's pending entry once
// no writer's claim is on it (ok false: id is not pending). A claimed
// object is not in a pack yet, and whoever asks may go on to write objects
// that name it; the claim is held for one copy into a buffer.
func (s *Store) settledPending(id dag.ID, fn func(p *pendingObj, ok bool)) {
	for {
		s.pendingMu.Lock()
		p, ok := s.pending[id]
		if !ok || !p.reserved {
			fn(&p, ok)
			s.pendingMu.Unlock()
			return
		}
		s.pendingMu.Unlock()
		runtime.Gosched()
	}
}

// isPending reports whether id is pending (see settledPending).
func (s *Store) isPending(id dag.ID) (pending bool) {
	s.settledPending(id, func(_ *pendingObj, ok bool) { pending = ok })
	return pending
}

// pendingGet returns the pending object id (see settledPending); false if
// it is not pending. The stored bytes are a copy: the pack buffer is
// recycled once the object leaves pending.
func (s *Store) pendingGet(id dag.ID) (p pendingObj, ok bool) {
	s.settledPending(id, func(e *pendingObj, found bool) {
		if found {
			p, ok = *e, true
			p.stored = append([]byte(nil), e.stored...)
		}
	})
	return p, ok
}

// dropPending forgets pending objects, once indexed or discarded.
func (s *Store) dropPending(es []pack.Entry) {
	s.pendingMu.Lock()
	defer s.pendingMu.Unlock()
	for _, e := range es {
		delete(s.pending, e.ID)
	}
}
