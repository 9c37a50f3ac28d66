package worktree

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/dxdata/dx/dag"
)

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

// treeCacheKey is the tree cache's key under its prefix: there is one.
const treeCacheKey = ""

// LoadTreeCache returns the tree cache; ok is false if there is none (or
// it does not decode: only a cache miss).
func LoadTreeCache(ctx context.Context, ix Index) (tc TreeCache, ok bool, err error) {
	cache, err := ix.Derived(prefixTreeCache)
	if err == nil {
		_, err = cache.Get(ctx, treeCacheKey, func(v []byte) error {
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
	}
	if err != nil {
		return TreeCache{}, false, fmt.Errorf("load tree cache: %w", err)
	}
	return tc, ok, nil
}

// SaveTreeCache replaces the tree cache. Not synced: lost, it is a miss.
// On a read-only store it writes nothing.
func SaveTreeCache(ctx context.Context, ix Index, tc TreeCache) error {
	cache, err := ix.Derived(prefixTreeCache)
	if err == nil {
		v := append(append(tc.Fingerprint[:0:0], tc.Fingerprint[:]...), tc.Root[:]...)
		v = binary.AppendUvarint(v, tc.Size)
		err = cache.Put(ctx, treeCacheKey, v)
	}
	if err != nil {
		return fmt.Errorf("save tree cache: %w", err)
	}
	return nil
}
