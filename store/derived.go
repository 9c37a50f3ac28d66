package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/dxdata/dx/dag"
)

// Derived is a table of a caller's derived data in the index: data that
// the caller can rebuild, such as the worktree's caches, kept under one key
// prefix it owns (see the key layout in index.go). The store never reads
// its keys or values, and GC and Fsck learn what it names only from a
// Referrer. Writes are not synced: lost to a crash, an entry is a cache
// miss. On a read-only store writes do nothing. Errors are returned as
// badger gives them (ENOSPC as ErrNoSpace), for the caller to wrap.
type Derived struct {
	s      *Store
	prefix byte
}

// Derived returns the table of derived data under prefix, which must not
// be one of the store's own.
func (s *Store) Derived(prefix byte) (Derived, error) {
	switch prefix {
	case pfxObject, pfxPack, pfxRef, pfxHead, pfxLog, pfxLogSeq, pfxKeyRange, pfxShallow, pfxLocFiles:
		return Derived{}, fmt.Errorf("store: derived data under %q: the prefix is the store's own", prefix)
	}
	return Derived{s: s, prefix: prefix}, nil
}

func (d Derived) key(k string) []byte { return append([]byte{d.prefix}, k...) }

// Get calls fn with key's value, if it is set, and reports whether it is.
// The value is valid only during fn.
func (d Derived) Get(ctx context.Context, key string, fn func(value []byte) error) (found bool, err error) {
	err = d.s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(d.key(key))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		return it.Value(fn)
	})
	return found, err
}

// Put sets one key, in a transaction of its own.
func (d Derived) Put(ctx context.Context, key string, value []byte) error {
	if d.s.readOnly {
		return nil
	}
	return noSpace(d.s.db.Update(func(txn *badger.Txn) error { return txn.Set(d.key(key), value) }))
}

// DerivedBatch collects the sets and deletes of one Derived.Update.
type DerivedBatch struct {
	d  Derived
	wb *badger.WriteBatch
}

// Set sets key to value; value must not change until the batch is written.
func (b *DerivedBatch) Set(key string, value []byte) error { return b.wb.Set(b.d.key(key), value) }

// Delete deletes key.
func (b *DerivedBatch) Delete(key string) error { return b.wb.Delete(b.d.key(key)) }

// Update calls fn to fill a batch of sets and deletes, and writes the batch
// if fn returns nil. On a read-only store it calls nothing.
func (d Derived) Update(ctx context.Context, fn func(b *DerivedBatch) error) error {
	if d.s.readOnly {
		return nil
	}
	b := &DerivedBatch{d: d, wb: d.s.db.NewWriteBatch()}
	defer b.wb.Cancel()
	if err := fn(b); err != nil {
		return err
	}
	return noSpace(b.wb.Flush())
}

// Delete deletes keys, in one batch.
func (d Derived) Delete(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	return d.Update(ctx, func(b *DerivedBatch) error {
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// Scan calls fn with every key of the table and its value, in bytewise
// key order, in one read transaction. key and value are valid only during
// fn.
func (d Derived) Scan(ctx context.Context, fn func(key, value []byte) error) error {
	return d.s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix = []byte{d.prefix}
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			if err := item.Value(func(v []byte) error { return fn(item.Key()[1:], v) }); err != nil {
				return err
			}
		}
		return nil
	})
}

// GetSorted looks up keys, which must be sorted bytewise ascending, and
// calls fn with the index and value of each key that is set (value valid
// only during fn), in one read transaction. It walks the table in key
// order alongside keys, stepping over short gaps and seeking over long
// ones, so its cost follows len(keys) and nothing is held in memory.
func (d Derived) GetSorted(ctx context.Context, keys []string, fn func(i int, value []byte)) error {
	if len(keys) == 0 {
		return nil
	}
	return d.s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix = []byte{d.prefix}
		o.PrefetchValues = false
		it := txn.NewIterator(o)
		defer it.Close()
		key := make([]byte, 0, 256)
		seek := func(k string) {
			key = append(append(key[:0], d.prefix), k...)
			it.Seek(key)
		}
		seek(keys[0])
		for i := 0; i < len(keys) && it.Valid(); {
			if i%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			k := it.Item().Key()[1:]
			switch {
			case string(k) < keys[i]: // (compared without copying)
				// Behind: step a few entries, then seek.
				stepped := false
				for n := 0; n < 8; n++ {
					it.Next()
					if !it.Valid() || string(it.Item().Key()[1:]) >= keys[i] {
						stepped = true
						break
					}
				}
				if !stepped {
					seek(keys[i])
				}
			case string(k) > keys[i]:
				i++ // not set
			default:
				err := it.Item().Value(func(v []byte) error {
					fn(i, v)
					return nil
				})
				if err != nil {
					return err
				}
				i++
				it.Next()
			}
		}
		return nil
	})
}

// Referrer is derived data that names stored objects without keeping them
// alive: the worktree's stat cache names Files, and must never name one
// that is missing. GC and Fsck are given the referrers to consult.
type Referrer interface {
	// Referenced calls fn with each entry and the object it names, of
	// kind kind. fn may read the store (it is called outside the
	// referrer's transaction).
	Referenced(ctx context.Context, fn func(entry string, kind dag.Kind, id dag.ID)) error
	// Forget drops entries. GC calls it before it deletes anything, so
	// that a crash part way leaves no entry naming a missing object.
	Forget(ctx context.Context, entries []string) error
	// Describe names an entry in Fsck's notes ("stat cache entry a.csv").
	Describe(entry string) string
}
