package remote

import (
	"context"
	"io"
	"sync/atomic"
)

// Requests counts the requests made to one remote, by kind.
type Requests struct {
	List   int64 `json:"list"`
	Get    int64 `json:"get"` // whole and ranged reads
	Put    int64 `json:"put"` // object writes and ref swaps
	Delete int64 `json:"delete"`
	// BytesRead and BytesWritten are the bodies read and written.
	BytesRead    int64 `json:"bytes_read"`
	BytesWritten int64 `json:"bytes_written"`
}

// Total is the number of requests.
func (r Requests) Total() int64 { return r.List + r.Get + r.Put + r.Delete }

// Counting passes every call to a Backend, counting requests and bytes.
type Counting struct {
	Backend
	list, get, put, del, read, written atomic.Int64
}

var _ Backend = (*Counting)(nil)

// NewCounting counts the requests made to be.
func NewCounting(be Backend) *Counting { return &Counting{Backend: be} }

// Snapshot is the count so far.
func (c *Counting) Snapshot() Requests {
	return Requests{List: c.list.Load(), Get: c.get.Load(), Put: c.put.Load(), Delete: c.del.Load(), BytesRead: c.read.Load(), BytesWritten: c.written.Load()}
}

// Check forwards the backend's own check (see Check).
func (c *Counting) Check(ctx context.Context) error {
	c.list.Add(1)
	return Check(ctx, c.Backend)
}

func (c *Counting) Delete(ctx context.Context, key string) error {
	c.del.Add(1)
	return c.Backend.Delete(ctx, key)
}

func (c *Counting) Get(ctx context.Context, key string, limit int64) ([]byte, string, error) {
	c.get.Add(1)
	b, tag, err := c.Backend.Get(ctx, key, limit)
	c.read.Add(int64(len(b)))
	return b, tag, err
}

func (c *Counting) GetRange(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	c.get.Add(1)
	rc, err := c.Backend.GetRange(ctx, key, off, n)
	if err != nil {
		return nil, err
	}
	return countedBody{rc, &c.read}, nil
}

func (c *Counting) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	c.put.Add(1)
	err := c.Backend.Put(ctx, key, r, size)
	if err == nil {
		c.written.Add(size)
	}
	return err
}

func (c *Counting) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	c.list.Add(1)
	return c.Backend.List(ctx, prefix)
}

func (c *Counting) Swap(ctx context.Context, key, oldTag string, data []byte) (string, error) {
	c.put.Add(1)
	tag, err := c.Backend.Swap(ctx, key, oldTag, data)
	if err == nil {
		c.written.Add(int64(len(data)))
	}
	return tag, err
}

// countedBody counts the bytes read from a ranged read.
type countedBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b countedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}
