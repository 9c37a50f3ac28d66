package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/pack"
)

// Stored is an object as it sits in a pack: compressed (or raw) bytes and
// how to turn them back into the object.
type Stored struct {
	ID     dag.ID
	Kind   dag.Kind
	Codec  pack.Codec
	Raw    uint32
	Stored []byte
}

// ReadStored returns an object's stored bytes without decompressing them,
// for copying it to another store as is. The bytes are those of the local
// pack, which was verified when it was written; receivers verify again.
func (s *Store) ReadStored(ctx context.Context, id dag.ID) (Stored, error) {
	if p, ok := s.pendingGet(id); ok {
		return Stored{ID: id, Kind: p.kind, Codec: p.codec, Raw: p.raw, Stored: p.stored}, nil
	}
	loc, err := s.Locate(ctx, id)
	if err != nil {
		return Stored{}, err
	}
	f, release, err := s.packFile(loc.Pack)
	if err != nil {
		return Stored{}, fmt.Errorf("object %s: %w", id.Short(), err)
	}
	defer release()
	b, err := pack.ReadBlob(f, pack.Entry{ID: id, Kind: loc.Kind, Codec: loc.Codec, Offset: loc.Offset, Stored: loc.Stored, Raw: loc.Raw})
	if err != nil {
		return Stored{}, fmt.Errorf("object %s in pack %s: %v: %w", id.Short(), loc.Pack.Short(), err, ErrCorrupt)
	}
	return Stored{ID: id, Kind: loc.Kind, Codec: loc.Codec, Raw: loc.Raw, Stored: b}, nil
}

// Staging receives objects from elsewhere (a remote) into new packs that
// become part of the store only at Commit: until then nothing is indexed,
// no object is visible, and Abort (or a crash) leaves the store as it was
// but for temporary files, which gc removes. Add is safe for concurrent
// use.
type Staging struct {
	s      *Store
	mu     sync.Mutex
	data   *stagedPack
	meta   *stagedPack
	closed []*stagedPack
	seen   map[dag.ID]struct{}
	bytes  int64
	err    error
}

type stagedPack struct {
	meta    bool
	f       *os.File
	bw      *bufio.Writer
	w       *pack.Writer
	id      dag.ID
	entries []pack.Entry
	size    int64
}

// NewStaging starts receiving objects.
func (s *Store) NewStaging() *Staging {
	return &Staging{s: s, seen: map[dag.ID]struct{}{}, err: s.writable("store: stage")}
}

// Add stages one object whose content the caller has verified against its
// id (decompressed and hashed). Objects already staged are skipped.
func (st *Staging) Add(o Stored) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.err != nil {
		return st.err
	}
	if _, ok := st.seen[o.ID]; ok {
		return nil
	}
	if err := st.s.space.claim(int64(len(o.Stored))); err != nil {
		st.err = fmt.Errorf("store: stage: %w", err)
		return st.err
	}
	p := &st.data
	if o.Kind.IsMeta() {
		p = &st.meta
	}
	if *p == nil {
		sp, err := st.newPack(o.Kind.IsMeta())
		if err != nil {
			st.err = err
			return err
		}
		*p = sp
	}
	if _, err := (*p).w.Add(o.ID, o.Kind, o.Codec, o.Stored, int(o.Raw)); err != nil {
		st.err = fmt.Errorf("store: stage %s: %w", o.ID.Short(), noSpace(err))
		return st.err
	}
	st.seen[o.ID] = struct{}{}
	st.bytes += int64(len(o.Stored))
	if (*p).w.Size() >= st.s.opts.PackSize {
		if err := st.seal(*p); err != nil {
			st.err = err
			return err
		}
		*p = nil
	}
	return nil
}

// Bytes is the stored size of everything staged so far.
func (st *Staging) Bytes() int64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.bytes
}

func (st *Staging) newPack(meta bool) (*stagedPack, error) {
	f, err := createTemp(filepath.Join(st.s.dir, tmpDir), "staged-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("store: stage: %w", noSpace(err))
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w, err := pack.NewWriter(bw)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("store: stage: %w", err)
	}
	return &stagedPack{meta: meta, f: f, bw: bw, w: w}, nil
}

// seal finishes a staged pack's file and fsyncs it; it is renamed into
// place at Commit.
func (st *Staging) seal(p *stagedPack) error {
	id, _, err := p.w.Finish()
	if err == nil {
		err = p.bw.Flush()
	}
	if err == nil {
		err = p.f.Sync()
	}
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(p.f.Name())
		return fmt.Errorf("store: stage pack: %w", noSpace(err))
	}
	p.id, p.entries, p.size = id, p.w.Entries(), p.w.Size()
	st.closed = append(st.closed, p)
	return nil
}

// Commit moves the staged packs into the store and indexes them, data
// packs before metadata packs, so that no metadata object is ever visible
// before the chunks it names. A crash during Commit leaves at worst packs
// that are not indexed (gc removes them) or, once journaled, are indexed
// again at the next open; retrying the transfer is safe.
func (st *Staging) Commit(ctx context.Context) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.err != nil {
		return st.err
	}
	for _, p := range []*stagedPack{st.data, st.meta} {
		if p != nil {
			if err := st.seal(p); err != nil {
				st.err = err
				return err
			}
		}
	}
	st.data, st.meta = nil, nil
	for _, p := range st.closed {
		if err := os.Rename(p.f.Name(), st.s.packPath(p.id)); err != nil {
			st.err = fmt.Errorf("store: commit staged pack: %w", err)
			return st.err
		}
	}
	if err := syncDir(filepath.Join(st.s.dir, packsDir)); err != nil {
		st.err = fmt.Errorf("store: commit staged packs: %w", err)
		return st.err
	}
	for _, meta := range []bool{false, true} {
		for _, p := range st.closed {
			if p.meta != meta {
				continue
			}
			if err := ctx.Err(); err != nil {
				st.err = err
				return err
			}
			if err := st.s.indexPack(p.id, p.meta, p.entries, p.size); err != nil {
				st.err = err
				return err
			}
			st.s.stats.PacksWritten.Add(1)
		}
	}
	st.closed = nil
	st.err = errors.New("store: staging already committed")
	return nil
}

// CommitData keeps the data chunks staged so far and drops the rest: after
// an interrupted transfer, verified chunks need not travel again (chunks
// name nothing, so no invariant depends on what else arrived). The
// staging is finished either way.
func (st *Staging) CommitData(ctx context.Context) error {
	st.mu.Lock()
	if st.meta != nil {
		st.meta.f.Close()
		os.Remove(st.meta.f.Name())
		st.meta = nil
	}
	var keep []*stagedPack
	for _, p := range st.closed {
		if p.meta {
			os.Remove(p.f.Name())
		} else {
			keep = append(keep, p)
		}
	}
	st.closed = keep
	err := st.err
	st.mu.Unlock()
	if err != nil {
		st.Abort()
		return err
	}
	return st.Commit(ctx)
}

// Abort drops everything staged.
func (st *Staging) Abort() {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, p := range []*stagedPack{st.data, st.meta} {
		if p != nil {
			p.f.Close()
			os.Remove(p.f.Name())
		}
	}
	for _, p := range st.closed {
		os.Remove(p.f.Name())
	}
	st.data, st.meta, st.closed = nil, nil, nil
	if st.err == nil {
		st.err = errors.New("store: staging aborted")
	}
}
