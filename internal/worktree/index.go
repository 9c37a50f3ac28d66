package worktree

import (
	"context"

	"github.com/dxdata/dx/store"
)

// Index is what the caches need of the store: tables of derived data in
// its index, and Flush, so that the stat cache is written only once the
// Files it names are stored.
type Index interface {
	Derived(prefix byte) (store.Derived, error)
	Flush(ctx context.Context) error
}

var _ Index = (*store.Store)(nil)

// The caches' key prefixes in the store's index (listed in its key
// layout); existing repositories' caches are read under them.
const (
	prefixStatCache = 's' // s<path> → StatEntry
	prefixTreeCache = 'T' // T → TreeCache
)
