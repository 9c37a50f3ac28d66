package serve

import (
	"context"
	"fmt"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/store"
	"github.com/dxdata/dx/store/pack"
)

// span is one chunk of a file and the offset in the file where it starts.
type span struct {
	ref dag.ChunkRef
	off int64
}

// fileSpans returns the chunks of File id that overlap [from, to), in
// order, as walkSpans finds them.
func fileSpans(ctx context.Context, g dag.Getter, id dag.ID, from, to int64) ([]span, error) {
	var out []span
	err := walkSpans(ctx, g, id, from, to, func(sp span) { out = append(out, sp) })
	return out, err
}

// walkSpans calls fn with the chunks of File id that overlap [from, to),
// in order, loading only the file nodes whose bytes overlap the range (an
// interior node knows the size beneath each child).
func walkSpans(ctx context.Context, g dag.Getter, id dag.ID, from, to int64, fn func(span)) error {
	var walk func(id dag.ID, base int64) error
	walk = func(id dag.ID, base int64) error {
		n, err := dag.LoadFileNode(ctx, g, id)
		if err != nil {
			return err
		}
		if n.Level == 0 {
			for _, c := range n.Chunks {
				end := base + int64(c.Len)
				if end > from && base < to {
					fn(span{ref: c, off: base})
				}
				base = end
			}
			return nil
		}
		for _, ch := range n.Children {
			end := base + int64(ch.Size)
			if end > from && base < to {
				if err := walk(ch.ID, base); err != nil {
					return err
				}
			}
			if end >= to {
				return nil
			}
			base = end
		}
		return nil
	}
	if from >= to {
		return nil
	}
	return walk(id, 0)
}

// chunkIn returns a chunk's bytes from the shared cache, decoding it from
// r's store (the view the caller holds) when it is not there.
func (b *bucket) chunkIn(ctx context.Context, r *repo.Repo, ref dag.ChunkRef) ([]byte, error) {
	return b.cachedChunk(ctx, ref, func(ctx context.Context) ([]byte, error) { return b.decodeChunk(ctx, r, ref) })
}

func (b *bucket) cachedChunk(ctx context.Context, ref dag.ChunkRef, load func(context.Context) ([]byte, error)) ([]byte, error) {
	data, hit, err := b.srv.cache.get(ctx, ref.ID, load)
	if hit {
		b.srv.stats.CacheHits.Add(1)
	}
	return data, err
}

// decodeChunk reads and decompresses a chunk from r's store.
func (b *bucket) decodeChunk(ctx context.Context, r *repo.Repo, ref dag.ChunkRef) ([]byte, error) {
	data, err := r.Store.AppendObject(ctx, dag.KindChunk, ref.ID, make([]byte, 0, ref.Len+pack.DecodeSlack))
	if err != nil {
		return nil, err
	}
	if len(data) != int(ref.Len) {
		return nil, fmt.Errorf("chunk %s has %d bytes, file says %d: %w", ref.ID.Short(), len(data), ref.Len, store.ErrCorrupt)
	}
	b.srv.stats.ChunksDecoded.Add(1)
	b.srv.stats.ChunkBytesDecoded.Add(int64(len(data)))
	return data, nil
}
