package store

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/dxdata/dx/dag"
)

// CeilingFile is a stored file to restore at the ceiling: its File id and
// where to write it.
type CeilingFile struct {
	ID   dag.ID
	Path string
}

// ceilingBatch is how many consecutive chunks one worker restores at a
// time: enough to keep its pack reads sequential.
const ceilingBatch = 64

// RestoreCeiling writes files from the store on all cores with nothing
// but the necessary work (read each chunk from its pack, decompress,
// verify its id, write it at its offset), and returns the bytes written:
// what a checkout could reach at best.
func (s *Store) RestoreCeiling(ctx context.Context, files []CeilingFile) (int64, error) {
	type batch struct {
		f    *os.File
		off  int64
		refs []dag.ChunkRef
	}
	var batches []batch
	var open []*os.File
	defer func() {
		for _, f := range open {
			f.Close()
		}
	}()
	for _, cf := range files {
		f, err := os.OpenFile(cf.Path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return 0, err
		}
		open = append(open, f)
		var off int64
		b := batch{f: f}
		err = dag.WalkFile(ctx, s, cf.ID, func(c dag.ChunkRef) error {
			b.refs = append(b.refs, c)
			if len(b.refs) == ceilingBatch {
				batches = append(batches, b)
				b = batch{f: f, off: off + int64(c.Len)}
			}
			off += int64(c.Len)
			return nil
		})
		if err != nil {
			return 0, err
		}
		if len(b.refs) > 0 {
			batches = append(batches, b)
		}
	}
	var next, written atomic.Int64
	errs := make(chan error, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for {
				i := int(next.Add(1) - 1)
				if i >= len(batches) || ctx.Err() != nil {
					return
				}
				b := batches[i]
				off := b.off
				for _, c := range b.refs {
					var err error
					buf, err = s.AppendObject(ctx, dag.KindChunk, c.ID, buf[:0])
					if err == nil && len(buf) != int(c.Len) {
						err = fmt.Errorf("chunk %s: %d bytes, file says %d: %w", c.ID.Short(), len(buf), c.Len, ErrCorrupt)
					}
					if err == nil {
						_, err = b.f.WriteAt(buf, off)
					}
					if err != nil {
						errs <- err
						return
					}
					off += int64(c.Len)
					written.Add(int64(c.Len))
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	for _, f := range open {
		if err := f.Close(); err != nil {
			return 0, err
		}
	}
	open = nil
	return written.Load(), nil
}
