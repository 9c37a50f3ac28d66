package worktree

import (
	"context"
	"os"

	"github.com/dxdata/dx/store"
)

// Index is what the caches need of the store: tables of derived data in
// its index; Flush, so that the stat cache is written only once the Files
// it names are stored; its directory, where the stat cache's file is kept,
// and its temporary files, which that file is written through; and whether
// it is read-only (the caches are then not written).
type Index interface {
	Derived(prefix byte) (store.Derived, error)
	Flush(ctx context.Context) error
	Dir() string
	CreateTemp(pattern string) (*os.File, error)
	ReadOnly() bool
}

var _ Index = (*store.Store)(nil)

// The caches' key prefixes in the store's index (listed in its key
// layout); existing repositories' caches are read under them.
const (
	prefixStatCache = 's' // s<path> → StatEntry (before the cache's file, statfile.go)
	prefixTreeCache = 'T' // T → TreeCache
)
