package store

import (
	"context"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/pack"
)

var _ dag.Putter = (*Store)(nil)

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
	if !s.claimPending(id) {
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
		s.pending.unclaim(id)
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
