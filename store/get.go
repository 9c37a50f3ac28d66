package store

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/pack"
)

var _ dag.Getter = (*Store)(nil)

// Has reports whether the object is stored (or pending in this process).
func (s *Store) Has(ctx context.Context, id dag.ID) (bool, error) {
	s.lookFresh()
	var pending, indexed bool
	s.settledPending(id, func(_ pendingObj, ok, ix bool) { pending, indexed = ok, ix })
	if pending {
		return true, nil
	}
	if s.fresh.on.Load() {
		return indexed, nil
	}
	s.stats.IndexLookups.Add(1)
	// After the pending check: an object is indexed before it is dropped
	// from pending.
	_, ok, err := s.objs.find(id)
	if err != nil {
		return false, fmt.Errorf("store has: %w", err)
	}
	return ok, nil
}

// HasMany is Has for many IDs at once, in parallel.
func (s *Store) HasMany(ctx context.Context, ids []dag.ID) ([]bool, error) {
	out := make([]bool, len(ids))
	workers := runtime.GOMAXPROCS(0)
	per := (len(ids) + workers - 1) / workers
	if per < 512 {
		per = 512
	}
	var wg sync.WaitGroup
	errs := make([]error, (len(ids)+per-1)/per)
	for w := 0; w*per < len(ids); w++ {
		lo, hi := w*per, min((w+1)*per, len(ids))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				if i%1024 == 0 && ctx.Err() != nil {
					errs[w] = ctx.Err()
					return
				}
				_, ok, err := s.objs.find(ids[i])
				if err != nil {
					errs[w] = err
					return
				}
				out[i] = ok || s.isPending(ids[i])
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("store has: %w", err)
	}
	return out, nil
}

// Locate returns where an object is stored.
func (s *Store) Locate(ctx context.Context, id dag.ID) (Location, error) {
	loc, ok, err := s.objs.find(id)
	if err != nil {
		return loc, fmt.Errorf("object %s: %w", id.Short(), err)
	}
	if !ok {
		return loc, fmt.Errorf("object %s: %w", id.Short(), ErrNotFound)
	}
	return loc, nil
}

// Get returns the verified raw bytes of an object of the given kind.
func (s *Store) Get(ctx context.Context, kind dag.Kind, id dag.ID) ([]byte, error) {
	return s.AppendObject(ctx, kind, id, nil)
}

// AppendObject appends the verified raw bytes of an object of the given
// kind to dst and returns the extended slice; pass buf[:0] to reuse a
// buffer's storage.
func (s *Store) AppendObject(ctx context.Context, kind dag.Kind, id dag.ID, dst []byte) ([]byte, error) {
	var stored []byte
	var e pack.Entry
	if p, pend := s.pendingGet(id); pend {
		e, stored = pack.Entry{ID: id, Kind: p.kind, Codec: p.codec, Stored: uint32(len(p.stored)), Raw: p.raw}, p.stored
	} else {
		loc, err := s.Locate(ctx, id)
		if err != nil {
			return nil, s.shallowMiss(ctx, kind, id, err)
		}
		e = pack.Entry{ID: id, Kind: loc.Kind, Codec: loc.Codec, Offset: loc.Offset, Stored: loc.Stored, Raw: loc.Raw}
		f, release, err := s.packFile(loc.Pack)
		if err != nil {
			return nil, fmt.Errorf("object %s: %w", id.Short(), err)
		}
		// The stored bytes are needed only until decoded: a recycled
		// buffer (fresh memory costs a page fault every 4 KiB).
		sb, _ := s.storedBufs.Get().(*[]byte)
		if sb == nil {
			sb = new([]byte)
		}
		defer s.storedBufs.Put(sb)
		stored, err = pack.ReadBlobInto(f, e, *sb)
		release()
		if err != nil {
			return nil, fmt.Errorf("object %s in pack %s: %v: %w", id.Short(), loc.Pack.Short(), err, ErrCorrupt)
		}
		*sb = stored[:0]
		s.stats.StoredBytesRead.Add(int64(len(stored)))
	}
	return s.decodeVerified(kind, id, e.Kind, e.Codec, int(e.Raw), stored, dst)
}
