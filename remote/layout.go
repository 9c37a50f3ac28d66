package remote

import (
	"context"

	"github.com/dxdata/dx/dag"
)

// The remote layout, for code that moves a remote's objects without a
// local store (replication between remotes).
const (
	// PacksPrefix lists the packs: packs/<id>.pack.
	PacksPrefix = packsPrefix
	// IndexPrefix lists the pack indexes: index/<id>.idx.
	IndexPrefix = indexPrefix
)

// PackKey is where a remote keeps a pack.
func PackKey(id dag.ID) string { return packKey(id) }

// IndexKey is where a remote keeps a pack's index (its footer).
func IndexKey(id dag.ID) string { return indexKey(id) }

// SwapRef moves a remote ref to id by compare-and-swap against oldTag (""
// to create it), as Push does; a lost race is ErrPrecondition. It returns
// the bytes written.
func SwapRef(ctx context.Context, be Backend, name, oldTag string, id dag.ID) (int64, error) {
	b := encodeRef(id)
	if _, err := be.Swap(ctx, name, oldTag, b); err != nil {
		return 0, err
	}
	return int64(len(b)), nil
}

// EnsureFormat marks the remote as a dx remote of this format, or checks
// the mark (Push does it before moving refs).
func EnsureFormat(ctx context.Context, be Backend) error { return ensureFormat(ctx, be) }

// PutEvent writes the event of one ref move under events/, as Push does,
// so that a subscriber of the remote wakes; it returns the bytes written.
func PutEvent(ctx context.Context, be Backend, ev Event) (int64, error) { return putEvent(ctx, be, ev) }
