package gc

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/store/pack"
)

// Repacking defaults: a kept pack is copied without its dead objects when
// they are most of it and at least this many bytes.
const (
	DefaultRepackBelow   = 0.5
	DefaultRepackMinDead = 1 << 20
)

// liveShare is a kept pack's live and dead stored bytes.
func liveShare(es []pack.Entry, live map[dag.ID]bool) (liveBytes, dead int64) {
	for _, e := range es {
		if live[e.ID] {
			liveBytes += int64(e.Stored)
		} else {
			dead += int64(e.Stored)
		}
	}
	return liveBytes, dead
}

// repack copies the live objects of pack p into a new pack, checked
// against their ids, and writes it and then its index: p can then be
// condemned, its live objects living on in the copy. It returns the new
// pack's id and size (none when no object of p is live).
func repack(ctx context.Context, be remote.Backend, p dag.ID, es []pack.Entry, live map[dag.ID]bool) (dag.ID, int64, error) {
	var keep []pack.Entry
	for _, e := range es {
		if live[e.ID] {
			keep = append(keep, e)
		}
	}
	if len(keep) == 0 {
		return dag.ID{}, 0, nil
	}
	slices.SortFunc(keep, func(a, b pack.Entry) int { return cmp.Compare(a.Offset, b.Offset) })
	first := keep[0].Offset
	last := keep[len(keep)-1]
	end := last.Offset + uint64(last.Stored)
	rc, err := be.GetRange(ctx, remote.PackKey(p), int64(first), int64(end-first))
	if err != nil {
		return dag.ID{}, 0, err
	}
	buf, err := io.ReadAll(io.LimitReader(rc, int64(end-first)+1))
	rc.Close()
	if err != nil {
		return dag.ID{}, 0, fmt.Errorf("%s: %s: %w", be, remote.PackKey(p), err)
	}
	if uint64(len(buf)) != end-first {
		return dag.ID{}, 0, fmt.Errorf("%s: %s is shorter than its index says: %w", be, remote.PackKey(p), remote.ErrIntegrity)
	}
	var out bytes.Buffer
	w, err := pack.NewWriter(&out)
	if err != nil {
		return dag.ID{}, 0, err
	}
	var scratch []byte
	for _, e := range keep {
		stored := buf[e.Offset-first : e.Offset-first+uint64(e.Stored)]
		raw, err := pack.Decompress(scratch[:0], stored, e.Codec, int(e.Raw))
		if err == nil && dag.Hash(e.Kind, raw) != e.ID {
			err = fmt.Errorf("content does not match its id")
		}
		if err != nil {
			return dag.ID{}, 0, fmt.Errorf("%s: object %s in %s: %v: %w", be, e.ID.Short(), remote.PackKey(p), err, remote.ErrIntegrity)
		}
		scratch = raw[:0]
		if _, err := w.Add(e.ID, e.Kind, e.Codec, stored, int(e.Raw)); err != nil {
			return dag.ID{}, 0, err
		}
	}
	id, footer, err := w.Finish()
	if err != nil {
		return dag.ID{}, 0, err
	}
	size := int64(out.Len())
	if err := be.Put(ctx, remote.PackKey(id), bytes.NewReader(out.Bytes()), size); err != nil {
		return dag.ID{}, 0, err
	}
	if err := be.Put(ctx, remote.IndexKey(id), bytes.NewReader(footer), int64(len(footer))); err != nil {
		return dag.ID{}, 0, err
	}
	return id, size, nil
}
