package replicate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/dxdata/dx/internal/progress"
	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/store/pack"
)

// copier writes the planned packs and their indexes to the destination.
type copier struct {
	src, dst remote.Backend
	dstIx    *remote.Index
	parallel int
	bar      progress.Bar

	packs, indexes, objects atomic.Int64
	packBytes, indexBytes   atomic.Int64
}

// run copies packs (in the order of order): the packs of chunks in
// parallel, each followed by its index; then the bodies of the metadata
// packs in parallel; then their indexes one by one, in order.
func (c *copier) run(ctx context.Context, ordered []*packPlan) error {
	var data, meta []*packPlan
	for _, pp := range ordered {
		if pp.meta {
			meta = append(meta, pp)
		} else {
			data = append(data, pp)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.parallel)
	for _, pp := range data {
		g.Go(func() error {
			if err := c.body(gctx, pp); err != nil {
				return err
			}
			return c.index(gctx, pp)
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(c.parallel)
	for _, pp := range meta {
		g.Go(func() error { return c.body(gctx, pp) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, pp := range meta {
		if err := c.index(ctx, pp); err != nil {
			return err
		}
	}
	return nil
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
