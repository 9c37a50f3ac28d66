package serve

import (
	"container/list"
	"context"
	"errors"
	"sync"

	"github.com/dxdata/dx/dag"
)

// chunkCache holds decoded chunks by id, least recently used first out,
// up to max bytes. Concurrent requests for a chunk not cached wait for one
// load instead of decoding it each.
type chunkCache struct {
	max int64

	mu       sync.Mutex
	size     int64
	lru      *list.List // of *cacheEntry, most recent at the front
	entries  map[dag.ID]*list.Element
	inflight map[dag.ID]*chunkLoad
}

type cacheEntry struct {
	id   dag.ID
	data []byte
}

// chunkLoad is one load in progress; done is closed when data or err is set.
type chunkLoad struct {
	done    chan struct{}
	data    []byte
	err     error
	waiters int // requests waiting for it (under the cache's mu)
}

func newChunkCache(max int64) *chunkCache {
	return &chunkCache{max: max, lru: list.New(), entries: map[dag.ID]*list.Element{}, inflight: map[dag.ID]*chunkLoad{}}
}

// get returns the chunk id, calling load when it is neither cached nor
// being loaded. The returned bytes are shared: callers must not modify them.
func (c *chunkCache) get(ctx context.Context, id dag.ID, load func(context.Context) ([]byte, error)) ([]byte, bool, error) {
	c.mu.Lock()
	for {
		if e, ok := c.entries[id]; ok {
			c.lru.MoveToFront(e)
			c.mu.Unlock()
			return e.Value.(*cacheEntry).data, true, nil
		}
		l, ok := c.inflight[id]
		if !ok {
			break
		}
		l.waiters++
		c.mu.Unlock()
		select {
		case <-l.done:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
		// A load its own request gave up on is no answer for this one.
		if l.err == nil || !isCanceled(l.err) {
			return l.data, true, l.err
		}
		c.mu.Lock()
	}
	l := &chunkLoad{done: make(chan struct{})}
	c.inflight[id] = l
	c.mu.Unlock()

	l.data, l.err = load(ctx)
	c.mu.Lock()
	delete(c.inflight, id)
	if l.err == nil {
		c.add(id, l.data)
	}
	c.mu.Unlock()
	close(l.done)
	return l.data, false, l.err
}

// peek returns the chunk id if it is cached (nil if not), without
// loading it.
func (c *chunkCache) peek(id dag.ID) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[id]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*cacheEntry).data
	}
	return nil
}

// add caches data under id and evicts the least recently used chunks
// beyond max. A chunk bigger than the whole cache is not kept. Called with
// mu held.
func (c *chunkCache) add(id dag.ID, data []byte) {
	n := int64(len(data))
	if n > c.max {
		return
	}
	c.entries[id] = c.lru.PushFront(&cacheEntry{id: id, data: data})
	c.size += n
	for c.size > c.max {
		e := c.lru.Back()
		ce := e.Value.(*cacheEntry)
		c.lru.Remove(e)
		delete(c.entries, ce.id)
		c.size -= int64(len(ce.data))
	}
}

// isCanceled reports whether err is a request's context ending.
func isCanceled(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
