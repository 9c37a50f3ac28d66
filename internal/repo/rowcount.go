package repo

import (
	"context"
	"encoding/binary"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/table"
)

// prefixRowCount is the index's derived table of tables' row counts: a
// check that reads a version learns its count, and a later check of a
// data contract's row bounds adds the rows a change adds and removes to
// it instead of counting again. n<spec>\x00<File id> → count (uvarint).
const prefixRowCount = 'n'

func rowCountKey(spec table.Spec, id dag.ID) string {
	return spec.String() + "\x00" + string(id[:])
}

// rowCount is the known row count of a stored table version, or nil.
func (r *Repo) rowCount(ctx context.Context, spec table.Spec, id dag.ID) *int64 {
	d, err := r.Store.Derived(prefixRowCount)
	if err != nil {
		return nil
	}
	var n *int64
	_, _ = d.Get(ctx, rowCountKey(spec, id), func(v []byte) error {
		if c, k := binary.Uvarint(v); k > 0 {
			n = new(int64(c))
		}
		return nil
	})
	return n
}

// putRowCount records a stored table version's row count (a cache: a
// failure to write it costs a count later).
func (r *Repo) putRowCount(ctx context.Context, spec table.Spec, id dag.ID, n int64) {
	if n < 0 {
		return
	}
	if d, err := r.Store.Derived(prefixRowCount); err == nil {
		_ = d.Put(ctx, rowCountKey(spec, id), binary.AppendUvarint(nil, uint64(n)))
	}
}
