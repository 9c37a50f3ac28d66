package replicate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/dxdata/dx/internal/progress"
	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/store/pack"
)

// copier writes the planned packs and their indexes to the destination:
// each pack's body as soon as the planner finds it (a pack of chunks then
// its index), on parallel workers; then, once every body is written, the
// metadata packs' indexes one by one, in order, so that an index never
// names what the destination does not hold.
type copier struct {
	src, dst remote.Backend
	dstIx    *remote.Index
	parallel int
	bar      progress.Bar

	queue chan *packPlan
	g     *errgroup.Group
	gctx  context.Context

	packs, indexes, objects atomic.Int64
	packBytes, indexBytes   atomic.Int64
}

// start starts the workers, with room in the queue for capacity packs.
func (c *copier) start(ctx context.Context, capacity int) {
	c.queue = make(chan *packPlan, capacity)
	c.g, c.gctx = errgroup.WithContext(ctx)
	for range max(c.parallel, 1) {
		c.g.Go(func() error {
			for pp := range c.queue {
				if err := c.body(c.gctx, pp); err != nil {
					return err
				}
				if !pp.meta {
					if err := c.index(c.gctx, pp); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
}

// add queues a planned pack; the queue has room for every pack.
func (c *copier) add(pp *packPlan) {
	if !pp.onDst {
		progress.Grow(c.bar, pp.size)
	}
	c.queue <- pp
}

// finish waits for the bodies and the indexes of the packs of chunks,
// then writes the metadata packs' indexes in the order of ordered.
func (c *copier) finish(ctx context.Context, ordered []*packPlan) error {
	close(c.queue)
	if err := c.g.Wait(); err != nil {
		return err
	}
	for _, pp := range ordered {
		if pp.meta {
			if err := c.index(ctx, pp); err != nil {
				return err
			}
		}
	}
	return nil
}

// abort stops the workers after the pack each is copying (planning
// failed).
func (c *copier) abort() {
	for drained := false; !drained; {
		select {
		case <-c.queue:
		default:
			drained = true
		}
	}
	close(c.queue)
	_ = c.g.Wait()
}

// body copies one pack unless an earlier run did: a metadata pack from
// the file it was read into while planning, a pack of chunks streamed
// from the source through its checker.
func (c *copier) body(ctx context.Context, pp *packPlan) error {
	if pp.onDst {
		return nil
	}
	key := remote.PackKey(pp.id)
	var r io.Reader
	var k *checked
	if pp.meta {
		f, err := os.Open(pp.file)
		if err != nil {
			return fmt.Errorf("replicate: %w", err)
		}
		defer f.Close()
		r = &sectionProgress{SectionReader: io.NewSectionReader(f, 0, pp.size), bar: c.bar}
	} else {
		rc, err := c.src.GetRange(ctx, key, 0, pp.size)
		if err != nil {
			return err
		}
		defer rc.Close()
		ck, err := pack.NewChecker(pp.id, pp.footer)
		if err != nil {
			return fmt.Errorf("%s: %s: %v: %w", c.src, remote.IndexKey(pp.id), err, remote.ErrIntegrity)
		}
		// The pack's objects are checked on all cores as it streams.
		ck.Workers = runtime.GOMAXPROCS(0)
		k = &checked{r: rc, c: ck, src: c.src, pp: pp}
		r = &streamProgress{r: k, bar: c.bar}
	}
	if err := c.dst.Put(ctx, key, r, pp.size); err != nil {
		if k != nil && k.err != nil {
			return k.err // the source's fault, not the destination's
		}
		return err
	}
	c.packs.Add(1)
	c.packBytes.Add(pp.size)
	return nil
}

// index writes a copied pack's index, which makes its objects part of
// what the destination holds.
func (c *copier) index(ctx context.Context, pp *packPlan) error {
	if err := c.dstIx.CheckWindow(ctx, c.dst, pp.id); err != nil {
		return err
	}
	if err := c.dst.Put(ctx, remote.IndexKey(pp.id), bytes.NewReader(pp.footer), int64(len(pp.footer))); err != nil {
		return err
	}
	c.indexes.Add(1)
	c.objects.Add(int64(len(pp.entries)))
	c.indexBytes.Add(int64(len(pp.footer)))
	return c.dstIx.Record(pp.id, pp.footer, pp.entries)
}

// streamProgress advances the bar by what is read.
type streamProgress struct {
	r   io.Reader
	bar progress.Bar
}

func (s *streamProgress) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	s.bar.Add(int64(n))
	return n, err
}

// sectionProgress is a file section that advances the bar by what is
// read; it keeps random access, so an S3 upload reads its parts in
// parallel.
type sectionProgress struct {
	*io.SectionReader
	bar progress.Bar
}

func (s *sectionProgress) Read(b []byte) (int, error) {
	n, err := s.SectionReader.Read(b)
	s.bar.Add(int64(n))
	return n, err
}

func (s *sectionProgress) ReadAt(b []byte, off int64) (int, error) {
	n, err := s.SectionReader.ReadAt(b, off)
	s.bar.Add(int64(n))
	return n, err
}
