package serve

import (
	"sync"

	"github.com/dxdata/dx/dag"
)

// tableKey names a table version's index: its File and how it is read.
type tableKey struct {
	file dag.ID
	spec string
}

// maxIndexedSpans bounds the chunks the table cache describes, over all
// its tables (a 1 GiB table has some 32,000).
const maxIndexedSpans = 1 << 18

// tableCache keeps the index of the tables rows were looked up in, the
// oldest dropped first past maxIndexedSpans chunks.
type tableCache struct {
	mu    sync.Mutex
	m     map[tableKey]*tableIndex
	order []tableKey // oldest first
	spans int
}

func newTableCache() *tableCache { return &tableCache{m: map[tableKey]*tableIndex{}} }

// peek returns the index of k if it is kept.
func (c *tableCache) peek(k tableKey) (*tableIndex, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ti, ok := c.m[k]
	return ti, ok
}

// get returns the index of k, loading it when it is not kept. Two
// lookups of a table not kept may both load it; the second is kept.
func (c *tableCache) get(k tableKey, load func() (*tableIndex, error)) (*tableIndex, error) {
	c.mu.Lock()
	ti, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return ti, nil
	}
	ti, err := load()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok {
		c.m[k] = ti
		c.order = append(c.order, k)
		c.spans += len(ti.spans)
	}
	for c.spans > maxIndexedSpans && len(c.order) > 1 {
		old := c.order[0]
		c.order = c.order[1:]
		c.spans -= len(c.m[old].spans)
		delete(c.m, old)
	}
	return ti, nil
}
