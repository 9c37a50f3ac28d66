package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/pack"
)

// The index's key layout: the first byte of a badger key says what it is.
//
// The store's own prefixes:
//
//	F                     → the object index's location files, newest
//	                        first: their names, 32 bytes each (objindex.go)
//	o<id>                 → object location (Location), in a v1 store only:
//	                        moved to a location file when it is opened
//	p<pack id>            → pack record (packRecord)
//	r<name>               → ref: object id
//	H                     → HEAD: "ref: <name>" or hex id
//	l<name>\x00<seq>      → reflog entry
//	L<name>               → the reflog's last seq
//	k<tag><first><id>     → a chunk's key range (keyrange_index.go)
//	S<commit id>          → a shallow commit (shallow.go)
//
// Prefixes of callers' derived data (Store.Derived), whose keys and values
// the store never reads:
//
//	s<path>               → internal/worktree's stat cache, as an older dx
//	                        kept it (read until its file replaces it)
//	T                     → internal/worktree's tree cache
//
// A table of DerivedFiles keeps, under its prefix, where each value is in
// the files under .dx/derived/<prefix in hex>/ (derivedfiles.go).
const (
	pfxObject   = 'o'
	pfxPack     = 'p'
	pfxRef      = 'r'
	pfxHead     = 'H'
	pfxLog      = 'l'
	pfxLogSeq   = 'L'
	pfxShallow  = 'S'
	pfxLocFiles = 'F'
)

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

// packRecord is what the index records of a finished pack.
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

// indexPack records a finished pack in the journal (journal.go), then in
// badger, and then its entries in the object index (objindex.go). The pack
// record is committed first, so an index entry never exists without the
// record of its pack.
func (s *Store) indexPack(id dag.ID, meta bool, entries []pack.Entry, size int64) error {
	if err := s.journal.add(id); err != nil {
		return err
	}
	return s.writePackIndex(id, meta, entries, size)
}

// writePackIndex is indexPack without the journal (recoverJournal).
func (s *Store) writePackIndex(id dag.ID, meta bool, entries []pack.Entry, size int64) error {
	s.lookFresh() // decided before this process first indexes an object
	rec := packRecord{Meta: meta, Count: uint32(len(entries)), Size: uint64(size)}
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(packKey(id), rec.encode()) }); err != nil {
		return fmt.Errorf("store: index pack: %w", err)
	}
	full := s.objs.add(id, entries)
	s.markIndexed(entries)
	if full {
		return s.persistIndex()
	}
	return nil
}

// syncIndex makes the index writes in badger's active memtable durable:
// the latest ones (a deletion just made, a ref just moved), not those in
// a full memtable still being flushed (see journal.go).
func (s *Store) syncIndex() error {
	if err := s.db.Sync(); err != nil {
		return fmt.Errorf("store: sync index: %w", err)
	}
	return nil
}

// packRecords returns the recorded packs.
func (s *Store) packRecords(ctx context.Context) (map[dag.ID]packRecord, error) {
	out := map[dag.ID]packRecord{}
	err := s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix = []byte{pfxPack}
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var id dag.ID
			copy(id[:], it.Item().Key()[1:])
			err := it.Item().Value(func(v []byte) error {
				r, err := decodePackRecord(v)
				out[id] = r
				return err
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pack records: %w", err)
	}
	return out, nil
}
