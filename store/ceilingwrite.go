package store

import (
	"fmt"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/dxdata/dx/store/pack"
)

// CeilingWriter is the write half of the ingest ceiling (`dx debug ceiling
// --write`): the disk writes no commit can skip. Each worker compresses
// its chunks in place into a pack buffer of its own; a full buffer is
// written directly, synced and renamed into place, and the directory
// synced, the way the pack finisher writes a pack. A store's work is left
// out: claims, pack hashes, footers, object index, journal. It is an
// IngestOptions.Sink, for IngestCompressOnly.
type CeilingWriter struct {
	dir      string
	packSize int
	bufs     []*alignedBuf // each worker's open pack buffer
	free     chan *alignedBuf
	queue    chan *alignedBuf
	done     chan struct{}
	packs    int // written, by the writer goroutine

	mu  sync.Mutex
	err error // the writer goroutine's first failure
}

// NewCeilingWriter writes into dir, an existing directory, for workers
// ingest workers (IngestOptions.Workers), in packs of packSize bytes
// (zero: the store's default).
func NewCeilingWriter(dir string, workers int, packSize int) *CeilingWriter {
	if packSize <= 0 {
		packSize = defaultPackSize
	}
	c := &CeilingWriter{
		dir: dir, packSize: packSize,
		bufs: make([]*alignedBuf, workers),
		// As many buffers as the store keeps: one open per worker, one
		// queued, one being written.
		free:  make(chan *alignedBuf, workers+2),
		queue: make(chan *alignedBuf, 1),
		done:  make(chan struct{}),
	}
	go c.write()
	return c
}

// Compress compresses data with comp in place into worker's pack buffer
// and returns its stored length.
func (c *CeilingWriter) Compress(worker int, data []byte, comp *pack.Compressor) (int, error) {
	if err := c.failure(); err != nil {
		return 0, err
	}
	b := c.bufs[worker]
	bound := pack.StoredBound(len(data))
	if b != nil && cap(b.b)-len(b.b) < bound {
		c.queue <- b
		b = nil
	}
	if b == nil {
		select {
		case b = <-c.free:
		default:
			b = newHugeBuf(c.packSize + 1<<20)
		}
		c.bufs[worker] = b
	}
	base := len(b.b)
	b.b, _ = comp.Compress(b.b, data)
	n := len(b.b) - base
	if len(b.b) >= c.packSize {
		c.queue <- b
		c.bufs[worker] = nil
	}
	return n, nil
}

// write writes the queued buffers until the queue closes.
func (c *CeilingWriter) write() {
	defer close(c.done)
	for b := range c.queue {
		if c.failure() == nil {
			if err := c.writePack(b); err != nil {
				c.mu.Lock()
				c.err = err
				c.mu.Unlock()
			}
		}
		b.reset()
		select {
		case c.free <- b:
		default:
			b.free()
		}
	}
}

func (c *CeilingWriter) writePack(b *alignedBuf) error {
	c.packs++
	return placeFileDirect(c.dir, b, filepath.Join(c.dir, "ceiling-"+strconv.Itoa(c.packs)+".pack"), c.dir)
}

func (c *CeilingWriter) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close writes the open buffers, waits until everything is written and
// frees the buffers. Call it once, after the ingest.
func (c *CeilingWriter) Close() error {
	for i, b := range c.bufs {
		if b != nil && len(b.b) > 0 {
			c.queue <- b
		} else if b != nil {
			b.free()
		}
		c.bufs[i] = nil
	}
	close(c.queue)
	<-c.done
	for {
		select {
		case b := <-c.free:
			b.free()
		default:
			if err := c.failure(); err != nil {
				return fmt.Errorf("ceiling: %w", err)
			}
			return nil
		}
	}
}
