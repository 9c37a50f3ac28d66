package repo

import (
	"context"
	"sync"

	"github.com/dxdata/dx/dag"
)

// overlay is a Putter that keeps tree nodes in memory (and serves them to
// Get), falling back to the store for everything else. It lets status diff
// a worktree snapshot against a commit without writing anything.
type overlay struct {
	mu   sync.Mutex
	objs map[dag.ID][]byte
	base dag.Getter
}

func newOverlay(base dag.Getter) *overlay { return &overlay{objs: map[dag.ID][]byte{}, base: base} }

func (o *overlay) Put(_ context.Context, k dag.Kind, b []byte) (dag.ID, error) {
	id := dag.Hash(k, b)
	if k == dag.KindTree {
		o.mu.Lock()
		o.objs[id] = append([]byte(nil), b...)
		o.mu.Unlock()
	}
	return id, nil
}

func (o *overlay) Get(ctx context.Context, k dag.Kind, id dag.ID) ([]byte, error) {
	o.mu.Lock()
	b, ok := o.objs[id]
	o.mu.Unlock()
	if ok {
		return b, nil
	}
	return o.base.Get(ctx, k, id)
}
