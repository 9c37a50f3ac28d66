package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dxdata/dx/dag"
)

// ReflogEntry is one recorded move of a ref.
type ReflogEntry struct {
	Old, New dag.ID
	Time     time.Time
	Message  string
}

// appendLog records a move of ref name in txn, under the ref's next
// sequence number.
func appendLog(txn *badger.Txn, name string, e ReflogEntry) error {
	seqKey := append([]byte{pfxLogSeq}, name...)
	var seq uint64
	it, err := txn.Get(seqKey)
	switch {
	case err == nil:
		if err := it.Value(func(v []byte) error {
			if len(v) == 8 {
				seq = binary.BigEndian.Uint64(v)
			}
			return nil
		}); err != nil {
			return err
		}
	case !errors.Is(err, badger.ErrKeyNotFound):
		return err
	}
	seq++
	var sb [8]byte
	binary.BigEndian.PutUint64(sb[:], seq)
	if err := txn.Set(seqKey, sb[:]); err != nil {
		return err
	}
	key := append(append(append([]byte{pfxLog}, name...), 0), sb[:]...)
	v := make([]byte, 0, 80+len(e.Message))
	v = append(v, e.Old[:]...)
	v = append(v, e.New[:]...)
	v = binary.AppendVarint(v, e.Time.UnixNano())
	v = append(v, e.Message...)
	return txn.Set(key, v)
}

// Reflog returns the recorded moves of a ref, newest first.
func (s *Store) Reflog(ctx context.Context, name string) ([]ReflogEntry, error) {
	var out []ReflogEntry
	err := s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix = append(append([]byte{pfxLog}, name...), 0)
		o.Reverse = true
		it := txn.NewIterator(o)
		defer it.Close()
		seek := append(append([]byte(nil), o.Prefix...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
		for it.Seek(seek); it.Valid(); it.Next() {
			err := it.Item().Value(func(v []byte) error {
				if len(v) < 2*dag.IDSize+1 {
					return fmt.Errorf("reflog %s: %w", name, ErrCorrupt)
				}
				var e ReflogEntry
				copy(e.Old[:], v)
				copy(e.New[:], v[32:])
				t, n := binary.Varint(v[64:])
				if n <= 0 {
					return fmt.Errorf("reflog %s: %w", name, ErrCorrupt)
				}
				e.Time = time.Unix(0, t).UTC()
				e.Message = string(bytes.Clone(v[64+n:]))
				out = append(out, e)
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}
