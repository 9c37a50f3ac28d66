package worktree

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// LookupStats finds the stat entries of paths, which must be sorted
// bytewise ascending, and calls fn with the index of each path found,
// reading only the blocks of the cache's file that may hold them: its cost
// follows len(paths). A repository whose cache has no file yet (an older
// dx kept it in the index) is read from the index. Entries that fail to
// decode are skipped (a cache miss).
func LookupStats(ctx context.Context, ix Index, paths []string, fn func(i int, e StatEntry)) error {
	if len(paths) == 0 {
		return nil
	}
	found := func(i int, v []byte) {
		if e, err := decodeStat(v); err == nil {
			fn(i, e)
		}
	}
	sf, err := openStatFile(ix.Dir())
	switch {
	case errors.Is(err, store.ErrCorrupt):
		return nil // every path a miss
	case err != nil:
		return fmt.Errorf("read stat cache: %w", err)
	case sf != nil:
		defer sf.close()
		if err := sf.lookup(paths, found); err != nil {
			return fmt.Errorf("read stat cache: %w", err)
		}
		return nil
	}
	cache, err := ix.Derived(prefixStatCache)
	if err == nil {
		err = cache.GetSorted(ctx, paths, found)
	}
	if err != nil {
		return fmt.Errorf("read stat cache: %w", err)
	}
	return nil
}

// HasStats reports whether the stat cache may hold any entry: false only
// when it certainly holds none (no file, or one that does not decode, and
// no entry an older dx kept in the index), as before a first commit. A
// scan then need not stat the files it will read anyway.
func HasStats(ctx context.Context, ix Index) (bool, error) {
	sf, err := openStatFile(ix.Dir())
	switch {
	case err != nil && !errors.Is(err, store.ErrCorrupt):
		return false, fmt.Errorf("read stat cache: %w", err)
	case sf != nil:
		n := len(sf.blocks)
		sf.close()
		if n > 0 {
			return true, nil
		}
	}
	cache, err := ix.Derived(prefixStatCache)
	if err != nil {
		return false, fmt.Errorf("read stat cache: %w", err)
	}
	found := errors.New("found")
	err = cache.Scan(ctx, func(_, _ []byte) error { return found })
	if err != nil && !errors.Is(err, found) {
		return false, fmt.Errorf("read stat cache: %w", err)
	}
	return err != nil, nil
}

// PathStat is a stat cache entry to set: a worktree path and its entry.
type PathStat struct {
	Path  string
	Entry StatEntry
}

// Stats lists the entries of m as PathStats, in no order.
func Stats(m map[string]StatEntry) []PathStat {
	out := make([]PathStat, 0, len(m))
	for p, e := range m {
		out = append(out, PathStat{p, e})
	}
	return out
}

// UpdateStatCache flushes the store, then sets and deletes stat entries:
// the Files they name are stored first. set names each path once; it is
// sorted in place.
func UpdateStatCache(ctx context.Context, ix Index, set []PathStat, del []string) error {
	if err := ix.Flush(ctx); err != nil {
		return err
	}
	return writeStats(ctx, ix, set, del, false)
}

// WriteStatCache sets and deletes stat entries without flushing first, so
// that a commit writes them while its packs are flushed. An entry may then
// name a File that a crash leaves unstored; that is safe because the cache
// only stands for a file's content, never for the object: a snapshot
// checks that the cached Files it commits, other than HEAD's, are stored
// (and reads those that are not), and fsck notes such entries, which gc
// drops.
// On a read-only store it writes nothing.
func WriteStatCache(ctx context.Context, ix Index, set []PathStat, del []string) error {
	return writeStats(ctx, ix, set, del, false)
}

// writeStats rewrites the cache's file with the entries of set added or
// replaced and the paths of del removed (del wins), then drops the entries
// an older dx kept in the index: the file now holds what they held.
// durable: the file is synced before it replaces the old one (gc's
// Forget, which must outlast a crash once the Files are deleted).
func writeStats(ctx context.Context, ix Index, set []PathStat, del []string, durable bool) error {
	if ix.ReadOnly() || (len(set) == 0 && len(del) == 0) {
		return nil
	}
	if err := rewriteStats(ctx, ix, set, del, durable); err != nil {
		return fmt.Errorf("stat cache: %w", store.NoSpace(err))
	}
	return nil
}

func rewriteStats(ctx context.Context, ix Index, set []PathStat, del []string, durable bool) error {
	// (A snapshot lists its paths nearly in order already.)
	slices.SortFunc(set, func(a, b PathStat) int { return strings.Compare(a.Path, b.Path) })
	gone := make(map[string]bool, len(del))
	for _, p := range del {
		gone[p] = true
	}
	sw, err := newStatWriter(ix)
	if err != nil {
		return err
	}
	// A merge walk of the old entries and the sorted entries of set.
	next := 0
	var value []byte
	addNext := func() {
		if k := &set[next]; len(gone) == 0 || !gone[k.Path] {
			value = k.Entry.appendTo(value[:0])
			sw.add([]byte(k.Path), value)
		}
		next++
	}
	legacy, err := oldStats(ctx, ix, func(p, v []byte) error {
		for next < len(set) && set[next].Path < string(p) {
			addNext()
		}
		switch {
		case next < len(set) && set[next].Path == string(p):
			addNext() // replaced
		case len(gone) == 0 || !gone[string(p)]:
			sw.add(p, v)
		}
		return ctx.Err()
	})
	if err != nil {
		sw.abort()
		return err
	}
	for next < len(set) {
		addNext()
	}
	if err := sw.finish(ix.Dir(), durable); err != nil {
		return err
	}
	if len(legacy) == 0 {
		return nil
	}
	cache, err := ix.Derived(prefixStatCache)
	if err == nil {
		err = cache.Delete(ctx, legacy)
	}
	return err
}

// oldStats calls fn with the cache's entries in path order: the file's
// (none if it does not decode) or, with no file, those an older dx kept in
// the index. It returns the paths of the index's entries, which the file
// replaces.
func oldStats(ctx context.Context, ix Index, fn func(path, value []byte) error) (legacy []string, err error) {
	sf, err := openStatFile(ix.Dir())
	corrupt := errors.Is(err, store.ErrCorrupt)
	if err != nil && !corrupt {
		return nil, err
	}
	if sf != nil {
		defer sf.close()
	}
	cache, err := ix.Derived(prefixStatCache)
	if err != nil {
		return nil, err
	}
	err = cache.Scan(ctx, func(p, v []byte) error {
		legacy = append(legacy, string(p))
		if sf == nil && !corrupt {
			return fn(p, v)
		}
		return nil
	})
	if err != nil || sf == nil {
		return legacy, err
	}
	return legacy, sf.each(fn)
}

// cachedStat is one stat cache entry.
type cachedStat struct {
	path  string
	entry StatEntry
}

// loadStatCache reads every stat entry, the file's and any an older dx
// kept in the index, skipping those that fail to decode.
func loadStatCache(ctx context.Context, ix Index) ([]cachedStat, error) {
	var all []cachedStat
	keep := func(path, v []byte) error {
		if e, err := decodeStat(v); err == nil {
			all = append(all, cachedStat{string(path), e})
		}
		return nil // a bad entry is only a cache miss
	}
	sf, err := openStatFile(ix.Dir())
	if err == nil && sf != nil {
		err = sf.each(keep)
		sf.close()
	}
	if err != nil && !errors.Is(err, store.ErrCorrupt) {
		return nil, fmt.Errorf("load stat cache: %w", err)
	}
	cache, err := ix.Derived(prefixStatCache)
	if err == nil {
		err = cache.Scan(ctx, keep)
	}
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

// Forget drops the entries of paths, durably: gc deletes the Files next.
func (r StatCacheReferrer) Forget(ctx context.Context, paths []string) error {
	if err := r.Index.Flush(ctx); err != nil {
		return err
	}
	return writeStats(ctx, r.Index, nil, paths, true)
}

// Describe names a path's entry in fsck's notes.
func (r StatCacheReferrer) Describe(path string) string { return "stat cache entry " + path }
