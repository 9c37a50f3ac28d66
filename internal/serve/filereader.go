package serve

import (
	"context"
	"fmt"
	"io"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/store"
)

// span is one chunk of a file and the offset in the file where it starts.
type span struct {
	ref dag.ChunkRef
	off int64
}

// fileSpans returns the chunks of File id that overlap [from, to), in
// order, loading only the file nodes whose bytes overlap the range (an
// interior node knows the size beneath each child).
func fileSpans(ctx context.Context, g dag.Getter, id dag.ID, from, to int64) ([]span, error) {
	var out []span
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
					out = append(out, span{ref: c, off: base})
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
		return nil, nil
	}
	return out, walk(id, 0)
}

// prefetch is how many chunks one response decodes ahead of the one it
// writes.
const prefetch = 4

// writeRange writes bytes [from, to) of the file made of spans to w,
// loading the chunks through b (its cache, then its store) a few ahead of
// the writes.
func (b *bucket) writeRange(ctx context.Context, w io.Writer, spans []span, from, to int64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type fetch struct {
		done chan struct{}
		data []byte
		err  error
	}
	queue := make(chan *fetch, prefetch)
	go func() {
		defer close(queue)
		for _, sp := range spans {
			f := &fetch{done: make(chan struct{})}
			select {
			case queue <- f:
			case <-ctx.Done():
				return
			}
			go func(ref dag.ChunkRef) {
				f.data, f.err = b.chunk(ctx, ref)
				close(f.done)
			}(sp.ref)
		}
	}()
	i := 0
	for f := range queue {
		<-f.done
		if f.err != nil {
			return f.err
		}
		sp := spans[i]
		i++
		lo, hi := max(from-sp.off, 0), min(to-sp.off, int64(len(f.data)))
		if _, err := w.Write(f.data[lo:hi]); err != nil {
			return err
		}
	}
	if i != len(spans) {
		return ctx.Err()
	}
	return nil
}

// chunk returns a chunk's bytes from the shared cache, decoding it from
// the store (under a view held only for that read) when it is not there.
func (b *bucket) chunk(ctx context.Context, ref dag.ChunkRef) ([]byte, error) {
	return b.cachedChunk(ctx, ref, func(ctx context.Context) ([]byte, error) {
		r, err := b.view.acquire(ctx)
		if err != nil {
			return nil, err
		}
		defer b.view.release()
		return b.decodeChunk(ctx, r, ref)
	})
}

// chunkIn is chunk for a caller that holds the view already, r.
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
	data, err := r.Store.AppendObject(ctx, dag.KindChunk, ref.ID, make([]byte, 0, ref.Len))
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
