package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/dirruns"
)

// CeilingFile is a stored file to restore at the ceiling: its File id and
// where to write it.
type CeilingFile struct {
	ID   dag.ID
	Path string
}

// ceilingBatch is how many consecutive chunks one worker restores at a
// time: enough to keep its pack reads sequential. A worker takes a run of
// at most ceilingRun small files in one directory at a time, so that
// workers create files in different directories, not in turn under one
// directory's lock, as a checkout's workers do (dirruns).
const (
	ceilingBatch = 64
	ceilingRun   = 64
)

// ceilingWorkers is how many workers restore: as many as a checkout's
// (4), or one a core where there are more. Small files are bound by the
// latency of their creation more than by the cores.
func ceilingWorkers() int { return max(4, runtime.GOMAXPROCS(0)) }

// ceilingOut is one file being written: opened by the first batch that
// writes it, closed by the last.
type ceilingOut struct {
	path    string
	once    sync.Once
	f       *os.File
	err     error
	pending atomic.Int32 // batches not yet written
}

func (o *ceilingOut) open() (*os.File, error) {
	o.once.Do(func() { o.f, o.err = os.OpenFile(o.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644) })
	return o.f, o.err
}

// done closes the file after its last batch.
func (o *ceilingOut) done() error {
	if o.pending.Add(-1) == 0 && o.f != nil {
		return o.f.Close()
	}
	return nil
}

// RestoreCeiling writes files from the store on ceilingWorkers with nothing
// but the necessary work (read each chunk from its pack, decompress,
// verify its id, write it at its offset), and returns the bytes written:
// what a checkout could reach at best. A file is open only while its
// chunks are written.
func (s *Store) RestoreCeiling(ctx context.Context, files []CeilingFile) (int64, error) {
	type batch struct {
		out  *ceilingOut
		off  int64
		refs []dag.ChunkRef
	}
	// The File objects are read on the workers too: read in turn, those
	// of 200,000 small files took half a second before any was written.
	refs, err := s.ceilingRefs(ctx, files)
	if err != nil {
		return 0, err
	}
	var batches []batch
	for i, cf := range files {
		out := &ceilingOut{path: cf.Path}
		var off int64
		for lo := 0; lo == 0 || lo < len(refs[i]); lo += ceilingBatch {
			// (an empty file is one empty batch)
			b := batch{out: out, off: off, refs: refs[i][lo:min(lo+ceilingBatch, len(refs[i]))]}
			for _, c := range b.refs {
				off += int64(c.Len)
			}
			batches = append(batches, b)
		}
	}
	seen := map[*ceilingOut]int32{}
	for _, b := range batches {
		seen[b.out]++
	}
	for o, n := range seen {
		o.pending.Store(n)
	}
	// A small file's batch goes in a run of its directory; each batch of
	// a bigger file is a run of its own, shared out as the files are.
	runs := dirruns.Cut(len(batches), ceilingRun, func(i int) string {
		if seen[batches[i].out] > 1 {
			return fmt.Sprint(i)
		}
		return filepath.Dir(batches[i].out.path)
	})
	var next, written atomic.Int64
	errs := make(chan error, ceilingWorkers())
	var wg sync.WaitGroup
	for range ceilingWorkers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var bufs ceilingBufs
			for {
				k := int(next.Add(1) - 1)
				if k >= len(runs) || ctx.Err() != nil {
					return
				}
				for _, b := range batches[runs[k].Lo:runs[k].Hi] {
					var err error
					if bufs, err = s.restoreBatch(ctx, b.out, b.off, b.refs, bufs, &written); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return written.Load(), nil
}

// restoreBatch writes the chunks refs of out at off, and closes out after
// its last batch. The chunks are located in one pass, read from their
// packs in runs (one read for neighbours) and decompressed and verified
// into one buffer, written in one call: reading a small chunk at a time,
// with a lookup each, the ceiling of a file of small chunks (Parquet's
// pages) ran slower than the checkout it bounds. bufs are the worker's,
// returned for its next batch.
func (s *Store) restoreBatch(ctx context.Context, out *ceilingOut, off int64, refs []dag.ChunkRef, bufs ceilingBufs, written *atomic.Int64) (ceilingBufs, error) {
	f, err := out.open()
	bufs.out = bufs.out[:0] // (an empty file's batch writes nothing)
	if err == nil && len(refs) > 0 {
		bufs, err = s.decodeCeilingBatch(ctx, refs, bufs)
	}
	if err == nil {
		_, err = f.WriteAt(bufs.out, off)
		written.Add(int64(len(bufs.out)))
	}
	if cerr := out.done(); err == nil {
		err = cerr
	}
	return bufs, err
}

// ceilingBufs are a ceiling worker's buffers: the stored bytes of a run
// and the decoded batch.
type ceilingBufs struct{ run, out []byte }

// decodeCeilingBatch reads and verifies the chunks refs into bufs.out.
func (s *Store) decodeCeilingBatch(ctx context.Context, refs []dag.ChunkRef, bufs ceilingBufs) (ceilingBufs, error) {
	ids := make([]dag.ID, len(refs))
	for i, r := range refs {
		ids[i] = r.ID
	}
	l := s.NewLocated(dag.KindChunk, ids)
	defer l.Close()
	if err := l.Locate(ctx, 0, len(refs)); err != nil {
		return bufs, err
	}
	l.WillNeed(0, len(refs)) // the batch's runs read together
	b := &eachBatch{from: 0, to: len(refs), out: bufs.out}
	run, err := s.decodeBatch(l, refs, b, bufs.run)
	return ceilingBufs{run: run, out: b.out}, err
}

// ceilingRefs lists the chunks of each file, read on ceilingWorkers.
func (s *Store) ceilingRefs(ctx context.Context, files []CeilingFile) ([][]dag.ChunkRef, error) {
	refs := make([][]dag.ChunkRef, len(files))
	var next atomic.Int64
	errs := make(chan error, ceilingWorkers())
	var wg sync.WaitGroup
	for range ceilingWorkers() {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(files) || ctx.Err() != nil {
					return
				}
				err := dag.WalkFile(ctx, s, files[i].ID, func(c dag.ChunkRef) error {
					refs[i] = append(refs[i], c)
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return refs, ctx.Err()
}
