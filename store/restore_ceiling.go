package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

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
			out.pending.Add(1)
		}
	}
	// A small file's batch goes in a run of its directory; each batch of
	// a bigger file is a run of its own, shared out as the files are.
	runs := dirruns.Cut(len(batches), ceilingRun, func(i int) string {
		if batches[i].out.pending.Load() > 1 {
			return fmt.Sprint(i)
		}
		return filepath.Dir(batches[i].out.path)
	})
	var written atomic.Int64
	err = onWorkers(ctx, len(runs), func() func(k int) error {
		var bufs ceilingBufs
		return func(k int) error {
			for _, b := range batches[runs[k].Lo:runs[k].Hi] {
				var err error
				if bufs, err = s.restoreBatch(ctx, b.out, b.off, b.refs, bufs, &written); err != nil {
					return err
				}
			}
			return nil
		}
	})
	if err != nil {
		return 0, err
	}
	return written.Load(), nil
}

// onWorkers runs items 0 to n-1 on ceilingWorkers, each worker taking the
// next item in turn and calling on it the function newWorker made for it
// (with the worker's own buffers). The first error stops them all and is
// returned; a cancelled ctx, its error.
func onWorkers(ctx context.Context, n int, newWorker func() func(i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	var next atomic.Int64
	for range ceilingWorkers() {
		do := newWorker()
		g.Go(func() error {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := gctx.Err(); err != nil {
					return err
				}
				if err := do(i); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
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

// decodeCeilingBatch reads and verifies the chunks refs into bufs.out. A
// file of one chunk is read alone: a located batch and its hint, for each
// of many small files, slowed their ceiling to 14 s against 7-10 s.
func (s *Store) decodeCeilingBatch(ctx context.Context, refs []dag.ChunkRef, bufs ceilingBufs) (ceilingBufs, error) {
	if len(refs) == 1 {
		var err error
		bufs.out, err = s.AppendObject(ctx, dag.KindChunk, refs[0].ID, bufs.out[:0])
		if err == nil && len(bufs.out) != int(refs[0].Len) {
			err = fmt.Errorf("chunk %s: %d bytes, file says %d: %w", refs[0].ID.Short(), len(bufs.out), refs[0].Len, ErrCorrupt)
		}
		return bufs, err
	}
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
	err := onWorkers(ctx, len(files), func() func(i int) error {
		return func(i int) error {
			return dag.WalkFile(ctx, s, files[i].ID, func(c dag.ChunkRef) error {
				refs[i] = append(refs[i], c)
				return nil
			})
		}
	})
	return refs, err
}
