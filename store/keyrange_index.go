package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/dgraph-io/badger/v4"

	"github.com/dxdata/dx/dag"
)

// The index of chunk key ranges (dag.KeyRange): for the chunks of table
// files, the least and greatest key of the rows starting in each, recorded
// when the chunks are ingested.
// A merge reads them instead of the chunks to tell that two changes cannot
// touch the same key. They are derived data, a function of a chunk's
// bytes and of a tag (the table's format and key columns), kept in the
// index only: lost or never recorded (chunks fetched from a remote), a
// merge reads the chunks instead.
const pfxKeyRange = 'k' // k<tag><first><chunk id> → lo, hi

// ChunkKeys asks Ingest to record the key range of every chunk of a table
// file.
type ChunkKeys struct {
	Tag [8]byte
	// Range returns the chunk's range; first says it starts the file (and
	// so the header). False: not known.
	Range func(chunk []byte, first bool) (dag.KeyRange, bool)
}

// KeyRangeRef names a chunk whose key range is wanted.
type KeyRangeRef struct {
	ID    dag.ID
	First bool // the chunk starts its file
}

func keyRangeKey(tag [8]byte, first bool, id dag.ID) []byte {
	k := make([]byte, 0, 1+len(tag)+1+dag.IDSize)
	k = append(append(k, pfxKeyRange), tag[:]...)
	if first {
		k = append(k, 1)
	} else {
		k = append(k, 0)
	}
	return append(k, id[:]...)
}

// KeyRanges returns the recorded key ranges of chunks under tag; ok[i] is
// false where none is.
func (s *Store) KeyRanges(ctx context.Context, tag [8]byte, refs []KeyRangeRef) (ranges []dag.KeyRange, ok []bool, err error) {
	ranges, ok = make([]dag.KeyRange, len(refs)), make([]bool, len(refs))
	err = s.db.View(func(txn *badger.Txn) error {
		for i, r := range refs {
			if err := ctx.Err(); err != nil {
				return err
			}
			it, err := txn.Get(keyRangeKey(tag, r.First, r.ID))
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			err = it.Value(func(v []byte) error {
				n, k := binary.Uvarint(v)
				if k <= 0 || uint64(len(v)-k) < n {
					return nil // malformed: not known
				}
				ranges[i], ok[i] = dag.KeyRange{Lo: string(v[k : k+int(n)]), Hi: string(v[k+int(n):])}, true
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("key ranges: %w", err)
	}
	return ranges, ok, nil
}

// hasKeyRange reports whether a chunk's range is recorded under tag.
func (s *Store) hasKeyRange(tag [8]byte, first bool, id dag.ID) bool {
	err := s.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(keyRangeKey(tag, first, id))
		return err
	})
	return err == nil
}

// keyRangeWriter batches the key ranges an ingest records.
type keyRangeWriter struct {
	mu sync.Mutex
	wb *badger.WriteBatch
	n  int
}

func encodeKeyRange(r dag.KeyRange) []byte {
	v := binary.AppendUvarint(make([]byte, 0, 2+len(r.Lo)+len(r.Hi)), uint64(len(r.Lo)))
	return append(append(v, r.Lo...), r.Hi...)
}

// KeyRangeEntry is one chunk's key range, to record.
type KeyRangeEntry struct {
	KeyRangeRef
	dag.KeyRange
}

// RecordKeyRanges records chunks' key ranges under tag, in one batch. On a
// read-only store it records nothing.
func (s *Store) RecordKeyRanges(tag [8]byte, entries []KeyRangeEntry) error {
	if s.readOnly {
		return nil
	}
	var w keyRangeWriter
	for _, e := range entries {
		if err := w.add(s, tag, e.First, e.ID, e.KeyRange); err != nil {
			w.cancel()
			return err
		}
	}
	return w.flush()
}

func (w *keyRangeWriter) add(s *Store, tag [8]byte, first bool, id dag.ID, r dag.KeyRange) error {
	v := encodeKeyRange(r)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.wb == nil {
		w.wb = s.db.NewWriteBatch()
	}
	w.n++
	return w.wb.Set(keyRangeKey(tag, first, id), v)
}

// flush writes the batch; cancel drops it.
func (w *keyRangeWriter) flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.wb == nil {
		return nil
	}
	err := w.wb.Flush()
	w.wb = nil
	if err != nil {
		return fmt.Errorf("record key ranges: %w", err)
	}
	return nil
}

func (w *keyRangeWriter) cancel() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.wb != nil {
		w.wb.Cancel()
		w.wb = nil
	}
}

// dropKeyRanges deletes the key ranges of chunks not in live.
func (s *Store) dropKeyRanges(live map[dag.ID]struct{}) error {
	var dead [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pfxKeyRange}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			if len(k) != 1+8+1+dag.IDSize {
				continue
			}
			var id dag.ID
			copy(id[:], k[1+8+1:])
			if _, ok := live[id]; !ok {
				dead = append(dead, it.Item().KeyCopy(nil))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("gc: key ranges: %w", err)
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, k := range dead {
		if err := wb.Delete(k); err != nil {
			return fmt.Errorf("gc: key ranges: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("gc: key ranges: %w", err)
	}
	return nil
}
