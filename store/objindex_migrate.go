package store

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/locfile"
)

// migrateV1 moves a v1 store's object index, one badger entry per object,
// into a location file, then marks the store v2. Each step can be redone:
// a crash before FORMAT is rewritten leaves a v1 store (its new file
// unlisted or listed again on the next try); a crash after leaves stale
// entries, which dropStaleObjectKeys removes.
func (s *Store) migrateV1() error {
	lf, err := s.writeLocFile(func(w *locfile.Writer) error {
		return s.db.View(func(txn *badger.Txn) error {
			o := badger.DefaultIteratorOptions
			o.Prefix = []byte{pfxObject}
			it := txn.NewIterator(o)
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				var id dag.ID
				copy(id[:], it.Item().Key()[1:])
				var l Location
				if err := it.Item().Value(func(v []byte) error {
					var err error
					l, err = decodeLoc(v)
					return err
				}); err != nil {
					return fmt.Errorf("object %s: %w", id.Short(), err)
				}
				e := locfile.Entry{ID: id, Pack: l.Pack, Kind: l.Kind, Codec: l.Codec, Offset: l.Offset, Stored: l.Stored, Raw: l.Raw}
				if err := w.Add(e); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("store upgrade to v2: %w", err)
	}
	if err := s.db.Update(func(txn *badger.Txn) error { return setListed(txn, []string{lf.name}) }); err != nil {
		_ = lf.f.Close()
		return fmt.Errorf("store upgrade to v2: %w", err)
	}
	if err := s.syncIndex(); err != nil {
		_ = lf.f.Close()
		return err
	}
	s.objs.close()
	s.objs.files = []*listedFile{lf}
	s.objs.removeUnlisted([]string{lf.name})
	if err := WriteFileAtomic(s.formatPath(), []byte(formatContent)); err != nil {
		return fmt.Errorf("store upgrade to v2: %w", err)
	}
	return s.dropStaleObjectKeys()
}

// dropStaleObjectKeys removes the object entries a v1 store kept in
// badger, once they are in a location file.
func (s *Store) dropStaleObjectKeys() error {
	stale := false
	_ = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pfxObject}})
		defer it.Close()
		it.Rewind()
		stale = it.Valid()
		return nil
	})
	if !stale {
		return nil
	}
	if err := s.db.DropPrefix([]byte{pfxObject}); err != nil {
		return fmt.Errorf("store: drop the v1 object index: %w", err)
	}
	return nil
}
