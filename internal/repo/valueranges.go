package repo

import (
	"context"
	"encoding/binary"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/check"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/store"
)

// prefixValueRange is the index's derived table of the ranges of unique
// columns' values per chunk (see check.ValueRanges):
// u<spec>\x00<column>\x00<chunk id> → some, lo, hi.
const prefixValueRange = 'u'

// valueRanges are a table spec's value ranges in the index.
type valueRanges struct {
	ctx  context.Context
	d    store.Derived
	spec string
}

var _ check.ValueRanges = valueRanges{}

// valueRanges returns the value ranges kept for tables of spec, or nil.
func (r *Repo) valueRanges(ctx context.Context, spec table.Spec) check.ValueRanges {
	d, err := r.Store.Derived(prefixValueRange)
	if err != nil {
		return nil
	}
	return valueRanges{ctx: ctx, d: d, spec: spec.String()}
}

func (v valueRanges) key(col string, c dag.ID) string {
	return v.spec + "\x00" + col + "\x00" + string(c[:])
}

func (v valueRanges) Get(col string, c dag.ID) (vr check.ValueRange, ok bool) {
	_, _ = v.d.Get(v.ctx, v.key(col, c), func(b []byte) error {
		if len(b) == 0 {
			return nil
		}
		vr.Some = b[0] == 1
		n, k := binary.Uvarint(b[1:])
		if k <= 0 || uint64(len(b)-1-k) < n {
			return nil
		}
		vr.Lo, vr.Hi = string(b[1+k:1+k+int(n)]), string(b[1+k+int(n):])
		ok = true
		return nil
	})
	return vr, ok
}

// Put records ranges in one batch (a cache: a failed write costs a read
// later).
func (v valueRanges) Put(rs []check.RangeEntry) {
	_ = v.d.Update(v.ctx, func(b *store.DerivedBatch) error {
		for _, e := range rs {
			val := []byte{0}
			if e.Range.Some {
				val[0] = 1
			}
			val = binary.AppendUvarint(val, uint64(len(e.Range.Lo)))
			val = append(append(val, e.Range.Lo...), e.Range.Hi...)
			if err := b.Set(v.key(e.Col, e.Chunk), val); err != nil {
				return err
			}
		}
		return nil
	})
}
