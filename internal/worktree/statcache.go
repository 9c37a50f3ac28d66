package worktree

import (
	"context"
	"fmt"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// LookupStats finds the stat entries of paths, which must be sorted
// bytewise ascending, and calls fn with the index of each path found, in
// one pass over the cache (store.Derived.GetSorted): its cost follows
// len(paths) and nothing is held in memory. Entries that fail to decode
// are skipped (a cache miss).
func LookupStats(ctx context.Context, ix Index, paths []string, fn func(i int, e StatEntry)) error {
	if len(paths) == 0 {
		return nil
	}
	cache, err := ix.Derived(prefixStatCache)
	if err == nil {
		err = cache.GetSorted(ctx, paths, func(i int, v []byte) {
			if e, err := decodeStat(v); err == nil {
				fn(i, e)
			}
		})
	}
	if err != nil {
		return fmt.Errorf("read stat cache: %w", err)
	}
	return nil
}

// UpdateStatCache flushes the store, then sets and deletes stat entries:
// the Files they name are stored first.
func UpdateStatCache(ctx context.Context, ix Index, set map[string]StatEntry, del []string) error {
	if err := ix.Flush(ctx); err != nil {
		return err
	}
	return WriteStatCache(ctx, ix, set, del)
}

// WriteStatCache sets and deletes stat entries without flushing first, so
// that a commit writes them while its packs are flushed. An entry may then
// name a File that a crash leaves unstored; that is safe because the cache
// only stands for a file's content, never for the object: a snapshot
// checks that the cached Files it commits, other than HEAD's, are stored
// (and reads those that are not), and fsck notes such entries, which gc
// drops.
// On a read-only store it writes nothing.
func WriteStatCache(ctx context.Context, ix Index, set map[string]StatEntry, del []string) error {
	cache, err := ix.Derived(prefixStatCache)
	if err != nil {
		return fmt.Errorf("stat cache: %w", err)
	}
	err = cache.Update(ctx, func(b *store.DerivedBatch) error {
		for p, e := range set {
			if err := b.Set(p, e.encode()); err != nil {
				return err
			}
		}
		for _, p := range del {
			if err := b.Delete(p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("stat cache: %w", err)
	}
	return nil
}

// cachedStat is one stat cache entry.
type cachedStat struct {
	path  string
	entry StatEntry
}

// loadStatCache reads every stat entry, skipping those that fail to decode.
func loadStatCache(ctx context.Context, ix Index) ([]cachedStat, error) {
	cache, err := ix.Derived(prefixStatCache)
	if err != nil {
		return nil, fmt.Errorf("load stat cache: %w", err)
	}
	var all []cachedStat
	err = cache.Scan(ctx, func(path, v []byte) error {
		if e, err := decodeStat(v); err == nil {
			all = append(all, cachedStat{string(path), e})
		}
		return nil // a bad entry is only a cache miss
	})
	if err != nil {
		return nil, fmt.Errorf("load stat cache: %w", err)
	}
	return all, nil
}

// StatCacheReferrer is the stat cache as GC and fsck see it: its entries
// name Files, which GC must not leave it naming once deleted.
type StatCacheReferrer struct{ Index Index }

var _ store.Referrer = StatCacheReferrer{}

// Referenced calls fn with every entry's path and the File it names.
func (r StatCacheReferrer) Referenced(ctx context.Context, fn func(path string, kind dag.Kind, id dag.ID)) error {
	all, err := loadStatCache(ctx, r.Index)
	if err != nil {
		return err
	}
	for _, c := range all {
		fn(c.path, dag.KindFile, c.entry.File)
	}
	return nil
}

// Forget drops the entries of paths.
func (r StatCacheReferrer) Forget(ctx context.Context, paths []string) error {
	return UpdateStatCache(ctx, r.Index, nil, paths)
}

// Describe names a path's entry in fsck's notes.
func (r StatCacheReferrer) Describe(path string) string { return "stat cache entry " + path }
