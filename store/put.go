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
	// Claimed before it is compressed: a writer of the same object
	// waits for it to be in its pack, as it must (see putClaimed).
	if claimed, err := s.claimIfNew(id); err != nil || !claimed {
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
	return id, s.putClaimed(int(s.nextPacker.Add(1)), id, kind, len(data), stored, codec)
}

// putClaimed adds an object the caller has claimed (claimIfNew: so that
// no other writer adds it to another pack, and any other writer of it
// waits until it is in its pack, since the writer goes on to write
// objects that name it, which must not go into a pack handed on before
// it) in its stored form. Data objects go to data packer packerHint
// modulo their number: concurrent writers that pass different values do
// not wait on each other.
func (s *Store) putClaimed(packerHint int, id dag.ID, kind dag.Kind, raw int, stored []byte, codec pack.Codec) error {
	p := s.packerFor(packerHint, kind)
	p.mu.Lock()
	err := p.add(id, kind, codec, stored, raw)
	p.mu.Unlock()
	return s.putDone(id, kind, raw, len(stored), err)
}

// compressClaimed is putClaimed for a chunk in the stored form comp gives
// it, compressed straight into its pack's buffer. Compressing holds the
// packer's lock: for writers that each have a data packer of their own
// (see ownPackers). It returns the stored length.
func (s *Store) compressClaimed(packerHint int, id dag.ID, data []byte, comp *pack.Compressor) (stored int, err error) {
	p := s.packerFor(packerHint, dag.KindChunk)
	p.mu.Lock()
	stored, ok, err := p.compressAdd(id, dag.KindChunk, data, comp)
	if !ok {
		b, codec := comp.Compress(nil, data)
		stored, err = len(b), p.add(id, dag.KindChunk, codec, b, len(data))
	}
	p.mu.Unlock()
	return stored, s.putDone(id, dag.KindChunk, len(data), stored, err)
}

// ownPackers reports whether writers 0 to n-1 passing their number as the
// packer hint each have a data packer of their own.
func (s *Store) ownPackers(n int) bool { return n <= len(s.dataPackers) }

// packerFor is the packer of an object of kind: the metadata packer, or
// data packer packerHint modulo their number.
func (s *Store) packerFor(packerHint int, kind dag.Kind) *packer {
	if kind.IsMeta() {
		return s.metaPacker
	}
	return s.dataPackers[uint(packerHint)%uint(len(s.dataPackers))]
}

// putDone ends putClaimed or compressClaimed: the claim is given up after an
// error, else counted.
func (s *Store) putDone(id dag.ID, kind dag.Kind, raw, stored int, err error) error {
	if err != nil {
		s.pending.unclaim(id)
		return err
	}
	if kind.IsMeta() {
		s.stats.MetaWritten.Add(1)
		s.stats.MetaBytesStored.Add(int64(stored))
		s.stats.MetaBytesRaw.Add(int64(raw))
	} else {
		s.stats.ChunksWritten.Add(1)
		s.stats.DataBytesStored.Add(int64(stored))
		s.stats.DataBytesRaw.Add(int64(raw))
	}
	return nil
}
