package replicate

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/store"
	"github.com/dxdata/dx/store/pack"
)

// objects reads single objects of a remote by ranged GETs, verified: the
// few commits and model versions that tell a fast-forward from a
// divergence. It is a dag.Getter; an object the remote does not index is
// store.ErrNotFound.
type objects struct {
	be    remote.Backend
	ix    *remote.Index
	cache map[dag.ID][]byte
}

var _ dag.Getter = (*objects)(nil)

func (o *objects) Get(ctx context.Context, kind dag.Kind, id dag.ID) ([]byte, error) {
	if b, ok := o.cache[id]; ok {
		return b, nil
	}
	loc, ok := o.ix.Lookup(id)
	if !ok {
		return nil, fmt.Errorf("%s: %s %s: %w", o.be, kind, id.Short(), store.ErrNotFound)
	}
	e := loc.Entry
	if e.Kind != kind {
		return nil, fmt.Errorf("%s: object %s is a %s, not a %s: %w", o.be, id.Short(), e.Kind, kind, remote.ErrIntegrity)
	}
	rc, err := o.be.GetRange(ctx, remote.PackKey(loc.Pack), int64(e.Offset), int64(e.Stored))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	stored := make([]byte, e.Stored)
	if _, err := io.ReadFull(rc, stored); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			err = fmt.Errorf("%s is shorter than its index says: %w", remote.PackKey(loc.Pack), remote.ErrIntegrity)
		}
		return nil, fmt.Errorf("%s: %w", o.be, err)
	}
	raw, err := pack.Decompress(nil, stored, e.Codec, int(e.Raw))
	if err == nil && dag.Hash(kind, raw) != id {
		err = errors.New("content does not match its id")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: object %s in %s: %v: %w", o.be, id.Short(), remote.PackKey(loc.Pack), err, remote.ErrIntegrity)
	}
	if o.cache == nil {
		o.cache = map[dag.ID][]byte{}
	}
	o.cache[id] = raw
	return raw, nil
}
