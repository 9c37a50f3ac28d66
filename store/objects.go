package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/internal/pack"
)

// Badger key prefixes.
const (
	pfxObject = 'o' // o<id> → location
	pfxPack   = 'p' // p<pack id> → pack record
	pfxRef    = 'r' // r<name> → id
	pfxHead   = 'H' // H → "ref: <name>" or hex id
	pfxLog    = 'l' // l<name>\x00<seq> → reflog entry
	pfxLogSeq = 'L' // L<name> → last seq
	pfxStat   = 's' // s<path> → stat entry
)

func objKey(id dag.ID) []byte  { return append([]byte{pfxObject}, id[:]...) }
func packKey(id dag.ID) []byte { return append([]byte{pfxPack}, id[:]...) }

// Location says where an object is stored.
type Location struct {
	Pack   dag.ID
	Kind   dag.Kind
	Codec  pack.Codec
	Offset uint64
	Stored uint32
	Raw    uint32
}

func encodeLoc(l Location) []byte {
	b := make([]byte, 0, 48)
	b = append(b, l.Pack[:]...)
	b = append(b, byte(l.Kind), byte(l.Codec))
	b = binary.AppendUvarint(b, l.Offset)
	b = binary.AppendUvarint(b, uint64(l.Stored))
	b = binary.AppendUvarint(b, uint64(l.Raw))
	return b
}

func decodeLoc(b []byte) (Location, error) {
	var l Location
	if len(b) < dag.IDSize+2 {
		return l, fmt.Errorf("index entry too short: %w", ErrCorrupt)
	}
	copy(l.Pack[:], b)
	l.Kind = dag.Kind(b[32])
	l.Codec = pack.Codec(b[33])
	r := bytes.NewReader(b[34:])
	off, err1 := binary.ReadUvarint(r)
	st, err2 := binary.ReadUvarint(r)
	raw, err3 := binary.ReadUvarint(r)
	if err := errors.Join(err1, err2, err3); err != nil || !l.Kind.Valid() || st > 1<<31 || raw > 1<<31 {
		return l, fmt.Errorf("index entry malformed: %w", ErrCorrupt)
	}
	l.Offset, l.Stored, l.Raw = off, uint32(st), uint32(raw)
	return l, nil
}

// pendingObj is an object written to a pack that is not yet finished.
type pendingObj struct {
	sink  *sink
	entry pack.Entry
}

// sink is the pack currently being written for data or for metadata.
type sink struct {
	s    *Store
	meta bool
	f    *os.File
	w    *pack.Writer
	tmp  string
}

// add appends one stored object; the caller holds s.mu.
func (k *sink) add(id dag.ID, kind dag.Kind, codec pack.Codec, stored []byte, raw int) error {
	if k.w == nil {
		f, err := os.CreateTemp(filepath.Join(k.s.dir, tmpDir), "pack-*.tmp")
		if err != nil {
			return fmt.Errorf("store: new pack: %w", err)
		}
		w, err := pack.NewWriter(f)
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			return fmt.Errorf("store: new pack: %w", err)
		}
		k.f, k.w, k.tmp = f, w, f.Name()
	}
	e, err := k.w.Add(id, kind, codec, stored, raw)
	if err != nil {
		return fmt.Errorf("store: pack add: %w", err)
	}
	k.s.pending[id] = pendingObj{sink: k, entry: e}
	if k.w.Size() >= k.s.opts.PackSize {
		return k.finish()
	}
	return nil
}

// finish completes the pack: footer, fsync, rename, then index entries. The
// caller holds s.mu.
func (k *sink) finish() error {
	if k.w == nil {
		return nil
	}
	w, f, tmp := k.w, k.f, k.tmp
	k.w, k.f, k.tmp = nil, nil, ""
	id, _, err := w.Finish()
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	final := filepath.Join(k.s.dir, packsDir, id.String()+".pack")
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err == nil {
		err = syncDir(filepath.Join(k.s.dir, packsDir))
	}
	if err != nil {
		os.Remove(tmp)
		k.dropPending(w.Entries())
		return fmt.Errorf("store: finish pack: %w", err)
	}
	if err := k.s.indexPack(id, k.meta, w.Entries(), w.Size()); err != nil {
		k.dropPending(w.Entries())
		return err
	}
	k.dropPending(w.Entries())
	k.s.stats.PacksWritten.Add(1)
	return nil
}

func (k *sink) dropPending(es []pack.Entry) {
	for _, e := range es {
		if p, ok := k.s.pending[e.ID]; ok && p.sink == k {
			delete(k.s.pending, e.ID)
		}
	}
}

func (k *sink) discard() {
	if k.w == nil {
		return
	}
	k.f.Close()
	os.Remove(k.tmp)
	k.w, k.f, k.tmp = nil, nil, ""
}

// indexPack records a finished pack and then its entries in badger. The
// pack record is committed first, so an index entry never exists without
// the record of its pack (a crash in between leaves a recorded pack whose
// objects are simply written again when needed).
func (s *Store) indexPack(id dag.ID, meta bool, entries []pack.Entry, size int64) error {
	rec := packRecord{Meta: meta, Count: uint32(len(entries)), Size: uint64(size)}
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(packKey(id), rec.encode()) }); err != nil {
		return fmt.Errorf("store: index pack: %w", err)
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, e := range entries {
		loc := Location{Pack: id, Kind: e.Kind, Codec: e.Codec, Offset: e.Offset, Stored: e.Stored, Raw: e.Raw}
		if err := wb.Set(objKey(e.ID), encodeLoc(loc)); err != nil {
			return fmt.Errorf("store: index pack: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("store: index pack: %w", err)
	}
	return nil
}

type packRecord struct {
	Meta  bool
	Count uint32
	Size  uint64
}

func (r packRecord) encode() []byte {
	b := []byte{0}
	if r.Meta {
		b[0] = 1
	}
	b = binary.AppendUvarint(b, uint64(r.Count))
	return binary.AppendUvarint(b, r.Size)
}

func decodePackRecord(b []byte) (packRecord, error) {
	if len(b) < 3 {
		return packRecord{}, fmt.Errorf("pack record: %w", ErrCorrupt)
	}
	r := packRecord{Meta: b[0] == 1}
	rd := bytes.NewReader(b[1:])
	c, err1 := binary.ReadUvarint(rd)
	sz, err2 := binary.ReadUvarint(rd)
	if err1 != nil || err2 != nil {
		return packRecord{}, fmt.Errorf("pack record: %w", ErrCorrupt)
	}
	r.Count, r.Size = uint32(c), sz
	return r, nil
}

// Flush finishes the open packs and indexes them. After Flush returns,
// every object Put so far is durable and visible to other processes.
func (s *Store) Flush(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Data before metadata: a metadata object is never indexed before the
	// chunks it names.
	if err := s.data.finish(); err != nil {
		return err
	}
	return s.meta.finish()
}

// Has reports whether the object is stored (or pending in this process).
func (s *Store) Has(ctx context.Context, id dag.ID) (bool, error) {
	s.mu.Lock()
	_, ok := s.pending[id]
	s.mu.Unlock()
	if ok {
		return true, nil
	}
	err := s.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(objKey(id))
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store has: %w", err)
	}
	return true, nil
}

// Put stores an object and returns its ID; an object already stored is not
// written again.
func (s *Store) Put(ctx context.Context, kind dag.Kind, data []byte) (dag.ID, error) {
	id := dag.Hash(kind, data)
	_, err := s.putHashed(ctx, id, kind, data, nil, 0)
	return id, err
}

// putHashed stores data under a precomputed id. When stored is non-nil it is
// the already-compressed form with its codec. It reports whether the object
// was new.
func (s *Store) putHashed(ctx context.Context, id dag.ID, kind dag.Kind, data []byte, stored []byte, codec pack.Codec) (bool, error) {
	if ok, err := s.Has(ctx, id); err != nil || ok {
		return false, err
	}
	if stored == nil {
		stored, codec = s.comp.Compress(nil, data)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.pending[id]; ok {
		return false, nil
	}
	k := s.data
	if kind.IsMeta() {
		k = s.meta
	}
	if err := k.add(id, kind, codec, stored, len(data)); err != nil {
		return false, err
	}
	if kind.IsMeta() {
		s.stats.MetaWritten.Add(1)
		s.stats.MetaBytesStored.Add(int64(len(stored)))
		s.stats.MetaBytesRaw.Add(int64(len(data)))
	} else {
		s.stats.ChunksWritten.Add(1)
		s.stats.DataBytesStored.Add(int64(len(stored)))
		s.stats.DataBytesRaw.Add(int64(len(data)))
	}
	return true, nil
}

// Locate returns where an object is stored.
func (s *Store) Locate(ctx context.Context, id dag.ID) (Location, error) {
	var loc Location
	err := s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(objKey(id))
		if err != nil {
			return err
		}
		return it.Value(func(v []byte) error {
			loc, err = decodeLoc(v)
			return err
		})
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return loc, fmt.Errorf("object %s: %w", id.Short(), ErrNotFound)
	}
	if err != nil {
		return loc, fmt.Errorf("object %s: %w", id.Short(), err)
	}
	return loc, nil
}

// Get returns the verified raw bytes of an object of the given kind.
func (s *Store) Get(ctx context.Context, kind dag.Kind, id dag.ID) ([]byte, error) {
	return s.get(ctx, kind, id, nil)
}

// GetInto is Get that may reuse buf's storage for the result.
func (s *Store) GetInto(ctx context.Context, kind dag.Kind, id dag.ID, buf []byte) ([]byte, error) {
	return s.get(ctx, kind, id, buf)
}

func (s *Store) get(ctx context.Context, kind dag.Kind, id dag.ID, buf []byte) ([]byte, error) {
	var stored []byte
	var e pack.Entry
	s.mu.Lock()
	p, pend := s.pending[id]
	if pend {
		e = p.entry
		var err error
		stored, err = pack.ReadBlob(p.sink.f, e)
		s.mu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("object %s: %w", id.Short(), err)
		}
	} else {
		s.mu.Unlock()
		loc, err := s.Locate(ctx, id)
		if err != nil {
			return nil, err
		}
		e = pack.Entry{ID: id, Kind: loc.Kind, Codec: loc.Codec, Offset: loc.Offset, Stored: loc.Stored, Raw: loc.Raw}
		f, err := s.packFile(loc.Pack)
		if err != nil {
			return nil, fmt.Errorf("object %s: %w", id.Short(), err)
		}
		stored, err = pack.ReadBlob(f, e)
		if err != nil {
			return nil, fmt.Errorf("object %s in pack %s: %v: %w", id.Short(), loc.Pack.Short(), err, ErrCorrupt)
		}
	}
	if e.Kind != kind {
		return nil, fmt.Errorf("object %s is a %s, not a %s: %w", id.Short(), e.Kind, kind, ErrCorrupt)
	}
	raw, err := pack.Decompress(buf[:0], stored, e.Codec, int(e.Raw))
	if err != nil {
		return nil, fmt.Errorf("object %s: %v: %w", id.Short(), err, ErrCorrupt)
	}
	if dag.Hash(kind, raw) != id {
		return nil, fmt.Errorf("object %s: content does not match its id: %w", id.Short(), ErrCorrupt)
	}
	s.stats.ObjectsRead.Add(1)
	s.stats.BytesRead.Add(int64(len(raw)))
	return raw, nil
}

func (s *Store) packPath(id dag.ID) string {
	return filepath.Join(s.dir, packsDir, id.String()+".pack")
}

func (s *Store) packFile(id dag.ID) (*os.File, error) {
	s.filesMu.Lock()
	defer s.filesMu.Unlock()
	if f, ok := s.files[id]; ok {
		return f, nil
	}
	if len(s.files) >= 256 {
		for k, f := range s.files {
			f.Close()
			delete(s.files, k)
			break
		}
	}
	f, err := os.Open(s.packPath(id))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("pack %s is missing: %w", id.Short(), ErrCorrupt)
		}
		return nil, err
	}
	s.files[id] = f
	return f, nil
}

// ResolvePrefix finds the unique object whose hex ID starts with prefix (at
// least 7 characters), optionally restricted to one kind.
func (s *Store) ResolvePrefix(ctx context.Context, prefix string, kind dag.Kind) (dag.ID, error) {
	if !dag.IsHexPrefix(prefix) {
		return dag.ZeroID, fmt.Errorf("%q: %w", prefix, dag.ErrBadID)
	}
	if len(prefix) == 2*dag.IDSize {
		id, err := dag.ParseID(prefix)
		if err != nil {
			return id, err
		}
		if ok, err := s.Has(ctx, id); err != nil || !ok {
			if err == nil {
				err = fmt.Errorf("object %s: %w", prefix, ErrNotFound)
			}
			return dag.ZeroID, err
		}
		return id, nil
	}
	even := prefix[:len(prefix)&^1]
	pb, _ := hex.DecodeString(even)
	var found []dag.ID
	err := s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.PrefetchValues = kind != dag.KindInvalid
		o.Prefix = append([]byte{pfxObject}, pb...)
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var id dag.ID
			copy(id[:], it.Item().Key()[1:])
			if len(prefix)%2 == 1 && hex.EncodeToString(id[:])[:len(prefix)] != toLower(prefix) {
				continue
			}
			if kind != dag.KindInvalid {
				var loc Location
				err := it.Item().Value(func(v []byte) error {
					var err error
					loc, err = decodeLoc(v)
					return err
				})
				if err != nil || loc.Kind != kind {
					continue
				}
			}
			found = append(found, id)
			if len(found) > 1 {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return dag.ZeroID, fmt.Errorf("resolve %s: %w", prefix, err)
	}
	switch len(found) {
	case 0:
		return dag.ZeroID, fmt.Errorf("object %s: %w", prefix, ErrNotFound)
	case 1:
		return found[0], nil
	}
	return dag.ZeroID, fmt.Errorf("%s: %w", prefix, ErrAmbiguous)
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'F' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

var _ dag.Getter = (*Store)(nil)
var _ dag.Putter = (*Store)(nil)
