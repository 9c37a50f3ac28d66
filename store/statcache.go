package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/dxdata/dx/dag"
)

const (
	pfxStat  = 's' // s<path> → stat entry
	pfxTrees = 'T' // T → tree cache (TreeCache)
)

// StatEntry caches what a worktree file looked like when its content was
// last hashed. It is used only while every field still matches and the file
// was not modified within RacyWindow of when the entry was recorded (git's
// racy-clean rule: such a file is hashed again).
type StatEntry struct {
	Size     int64
	MtimeNs  int64
	CtimeNs  int64
	Inode    uint64
	Mode     dag.Mode
	File     dag.ID
	Recorded int64 // unix ns when the entry was recorded
}

// RacyWindowNs: a file whose mtime is this close to (or after) the moment
// its entry was recorded may have changed within the filesystem's timestamp
// granularity, so its entry is not trusted.
const RacyWindowNs = int64(20e6)

// Trusted reports whether the entry can stand for the file's content.
func (e StatEntry) Trusted() bool { return e.MtimeNs < e.Recorded-RacyWindowNs }

// Matches reports whether a fresh lstat result equals the cached one.
func (e StatEntry) Matches(o StatEntry) bool {
	return e.Size == o.Size && e.MtimeNs == o.MtimeNs && e.CtimeNs == o.CtimeNs && e.Inode == o.Inode && e.Mode == o.Mode
}

func statKey(path string) []byte { return append([]byte{pfxStat}, path...) }

func (e StatEntry) encode() []byte {
	b := make([]byte, 0, 80)
	b = binary.AppendVarint(b, e.Size)
	b = binary.AppendVarint(b, e.MtimeNs)
	b = binary.AppendVarint(b, e.CtimeNs)
	b = binary.AppendUvarint(b, e.Inode)
	b = append(b, byte(e.Mode))
	b = append(b, e.File[:]...)
	return binary.AppendVarint(b, e.Recorded)
}

func decodeStat(b []byte) (StatEntry, error) {
	var e StatEntry
	var n int
	read := func(signed bool) int64 {
		if n < 0 {
			return 0
		}
		var v int64
		var k int
		if signed {
			v, k = binary.Varint(b)
		} else {
			var u uint64
			u, k = binary.Uvarint(b)
			v = int64(u)
		}
		if k <= 0 {
			n = -1
			return 0
		}
		b = b[k:]
		return v
	}
	e.Size = read(true)
	e.MtimeNs = read(true)
	e.CtimeNs = read(true)
	e.Inode = uint64(read(false))
	if n < 0 || len(b) < 1+dag.IDSize {
		return e, fmt.Errorf("stat entry: %w", ErrCorrupt)
	}
	e.Mode = dag.Mode(b[0])
	copy(e.File[:], b[1:])
	b = b[1+dag.IDSize:]
	e.Recorded = read(true)
	if n < 0 {
		return e, fmt.Errorf("stat entry: %w", ErrCorrupt)
	}
	return e, nil
}

// StatCache is a read snapshot of the stat cache, loaded once per operation.
type StatCache map[string]StatEntry

// LoadStatCache reads every stat entry.
func (s *Store) LoadStatCache(ctx context.Context) (StatCache, error) {
	type kv struct {
		path string
		e    StatEntry
	}
	var all []kv
	err := s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix = []byte{pfxStat}
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			err := item.Value(func(v []byte) error {
				if e, err := decodeStat(v); err == nil {
					all = append(all, kv{string(item.Key()[1:]), e})
				}
				return nil // a bad entry is only a cache miss
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load stat cache: %w", err)
	}
	// Sized once: growing the map entry by entry cost more than reading.
	out := make(StatCache, len(all))
	for _, x := range all {
		out[x.path] = x.e
	}
	return out, nil
}

// LookupStats finds the stat entries of paths, which must be sorted
// bytewise ascending, and calls fn with the index of each path found. It
// walks the cache in key order alongside paths, stepping over short gaps
// and seeking over long ones, so its cost follows len(paths) and nothing is
// held in memory. Entries that fail to decode are skipped (a cache miss).
func (s *Store) LookupStats(ctx context.Context, paths []string, fn func(i int, e StatEntry)) error {
	if len(paths) == 0 {
		return nil
	}
	err := s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix = []byte{pfxStat}
		o.PrefetchValues = false
		it := txn.NewIterator(o)
		defer it.Close()
		key := make([]byte, 0, 256)
		seek := func(p string) {
			key = append(append(key[:0], pfxStat), p...)
			it.Seek(key)
		}
		seek(paths[0])
		for i := 0; i < len(paths) && it.Valid(); {
			if i%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			k := it.Item().Key()[1:]
			switch {
			case string(k) < paths[i]: // (compared without copying)
				// Behind: step a few entries, then seek.
				stepped := false
				for n := 0; n < 8; n++ {
					it.Next()
					if !it.Valid() || string(it.Item().Key()[1:]) >= paths[i] {
						stepped = true
						break
					}
				}
				if !stepped {
					seek(paths[i])
				}
			case string(k) > paths[i]:
				i++ // not cached
			default:
				err := it.Item().Value(func(v []byte) error {
					if e, err := decodeStat(v); err == nil {
						fn(i, e)
					}
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
	if err != nil {
		return fmt.Errorf("read stat cache: %w", err)
	}
	return nil
}

// UpdateStatCache flushes the store, then sets and deletes stat entries:
// the Files they name are stored first.
func (s *Store) UpdateStatCache(ctx context.Context, set map[string]StatEntry, del []string) error {
	if err := s.Flush(ctx); err != nil {
		return err
	}
	return s.WriteStatCache(ctx, set, del)
}

// WriteStatCache sets and deletes stat entries without flushing first, so
// that a commit writes them while its packs are flushed. An entry may then
// name a File that a crash leaves unstored; that is safe because the cache
// only stands for a file's content, never for the object: a snapshot
// checks that the cached Files it commits, other than HEAD's, are stored
// (and reads those that are not), and fsck notes such entries, which gc
// drops.
// On a read-only store it writes nothing.
func (s *Store) WriteStatCache(ctx context.Context, set map[string]StatEntry, del []string) error {
	if s.readOnly {
		return nil
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for p, e := range set {
		if err := wb.Set(statKey(p), e.encode()); err != nil {
			return fmt.Errorf("stat cache: %w", err)
		}
	}
	for _, p := range del {
		if err := wb.Delete(statKey(p)); err != nil {
			return fmt.Errorf("stat cache: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("stat cache: %w", noSpace(err))
	}
	return nil
}

// ClearStatCache drops every entry (used by fsck --repair and tests).
func (s *Store) ClearStatCache(ctx context.Context) error {
	err := s.db.DropPrefix([]byte{pfxStat})
	if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
		return fmt.Errorf("stat cache: %w", err)
	}
	return nil
}

// TreeCache records the root tree a snapshot of the worktree built, with a
// fingerprint of every file it held (path, mode, File ID and size, in path
// order): a later snapshot of the same files has the same root tree, and
// need not build its trees again (git's index keeps its cache-tree for
// the same reason). A commit's trees are stored; a status' are not, so
// the root must be found in the store before it is used.
type TreeCache struct {
	Fingerprint [32]byte
	Root        dag.ID
	Size        uint64
}

// LoadTreeCache returns the tree cache; ok is false if there is none (or
// it does not decode: only a cache miss).
func (s *Store) LoadTreeCache(ctx context.Context) (tc TreeCache, ok bool, err error) {
	err = s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get([]byte{pfxTrees})
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return it.Value(func(v []byte) error {
			if len(v) < 2*dag.IDSize+1 {
				return nil
			}
			copy(tc.Fingerprint[:], v)
			copy(tc.Root[:], v[dag.IDSize:])
			size, n := binary.Uvarint(v[2*dag.IDSize:])
			if n <= 0 {
				return nil
			}
			tc.Size, ok = size, true
			return nil
		})
	})
	if err != nil {
		return TreeCache{}, false, fmt.Errorf("load tree cache: %w", err)
	}
	return tc, ok, nil
}

// SaveTreeCache replaces the tree cache. Not synced: lost, it is a miss.
// On a read-only store it writes nothing.
func (s *Store) SaveTreeCache(ctx context.Context, tc TreeCache) error {
	if s.readOnly {
		return nil
	}
	v := append(append(tc.Fingerprint[:0:0], tc.Fingerprint[:]...), tc.Root[:]...)
	v = binary.AppendUvarint(v, tc.Size)
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set([]byte{pfxTrees}, v) }); err != nil {
		return fmt.Errorf("save tree cache: %w", err)
	}
	return nil
}
