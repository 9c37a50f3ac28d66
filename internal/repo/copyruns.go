package repo

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/dxdata/dx/internal/blockread"
)

// The runs of an assembly are copied by two goroutines: a reader reads
// those that go through memory into a few buffers while a writer writes
// them, and copies the others within the kernel, in order. Reading the
// source, cold, then overlaps writing the copy, and a write the kernel
// holds back (dirty pages past their limit) no longer stops the reads.
// The writer is the file's only writer while it runs.
//
// A source the page cache does not hold is read directly from the disk
// (blockread), and the writer writes from the blocks read: its bytes are
// copied once, into the new file's pages, not first into the cache and
// then into a buffer: the copy leaves more of the cores to what runs
// beside it (a pull's download).

// copyBuffers is how many buffers of copyBuffer bytes the reader fills
// ahead of the writer.
const copyBuffers = 3

// copyStep is the most a run copied within the kernel copies between two
// calls of copyRuns' between.
const copyStep = 8 << 20

// copyPiece is n bytes of the source at off, to write at dst: b holds
// them, or (nil) the kernel copies them.
type copyPiece struct {
	dst, off, n int64
	b           []byte
}

// copyBatch is pieces of one buffer taken from the reader's free ones
// (held), or pieces the kernel copies. buf is nil where the pieces are
// views of blocks read directly, released once written.
type copyBatch struct {
	buf     []byte
	held    bool
	pieces  []copyPiece
	release []func()
}

// copyRuns copies the runs from src into f on goroutines of their own,
// which send their error, nil once done, on the channel returned; a
// failure cancels ctx (cancel) with itself as the cause. between, if set,
// is called by the writer after each batch (a buffer, or at most copyStep
// bytes within the kernel).
func (a *assembly) copyRuns(ctx context.Context, cancel context.CancelCauseFunc, f, src *os.File, bar interface{ Add(int64) }, between func()) <-chan error {
	done := make(chan error, 1)
	if len(a.runs) > 0 {
		preallocate(f, a.size) // before the copy's writes and the caller's
	}
	go func() {
		err := a.pipeRuns(ctx, f, src, bar, between)
		switch {
		case err != nil && ctx.Err() != nil:
			err = context.Cause(ctx)
		case err != nil:
			cancel(err)
		}
		done <- err
	}()
	return done
}

// pipeRuns runs the reader and the writer.
func (a *assembly) pipeRuns(ctx context.Context, f, src *os.File, bar interface{ Add(int64) }, between func()) error {
	if len(a.runs) == 0 {
		return nil
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	free := make(chan []byte, copyBuffers)
	for range copyBuffers {
		free <- nil // allocated when first used
	}
	batches := make(chan copyBatch, copyBuffers)
	readErr := make(chan error, 1)
	direct := a.direct(src)
	defer direct.Close() // once the writer is done with its blocks
	go func() {
		defer close(batches)
		readErr <- a.readRuns(ctx, src, direct, free, batches)
	}()
	var err error
	for b := range batches {
		if err == nil {
			if err = writeBatch(f, src, b, bar); err != nil {
				stop() // the reader stops; the batches it sent are drained
			} else if between != nil {
				between()
			}
		}
		for _, rel := range b.release {
			rel()
		}
		if b.held {
			free <- b.buf
		}
	}
	if rerr := <-readErr; err == nil {
		err = rerr
	}
	return err
}

// direct returns a reader of src straight from the disk when runs go
// through memory and the page cache does not hold src; nil otherwise.
func (a *assembly) direct(src *os.File) *blockread.Reader {
	for _, rn := range a.runs {
		if !inKernel(rn.dst, rn.off) {
			fi, err := src.Stat()
			if err != nil {
				return nil
			}
			return blockread.Open(int(src.Fd()), src.Name(), fi.Size(), 0, 0, copyBuffers)
		}
	}
	return nil
}

// readRuns reads the runs that go through memory into buffers taken from
// free and sends them, in order with those the kernel copies, on batches.
// With direct set, a batch's pieces are views of its blocks, and a buffer
// taken from free (never allocated) only bounds how far the reader runs
// ahead of the writer.
func (a *assembly) readRuns(ctx context.Context, src *os.File, direct *blockread.Reader, free chan []byte, batches chan<- copyBatch) error {
	var cur copyBatch
	used := 0
	send := func(b copyBatch) error {
		select {
		case batches <- b:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	flush := func() error {
		if len(cur.pieces) == 0 {
			return nil
		}
		err := send(cur)
		cur, used = copyBatch{}, 0
		return err
	}
	for _, rn := range a.runs {
		dst, off, n := rn.dst, rn.off, rn.n
		if inKernel(dst, off) {
			if err := flush(); err != nil {
				return err
			}
			for n > 0 {
				k := min(n, copyStep-off%copyStep) // steps end on the source's blocks
				if err := send(copyBatch{pieces: []copyPiece{{dst: dst, off: off, n: k}}}); err != nil {
					return err
				}
				dst, off, n = dst+k, off+k, n-k
			}
			continue
		}
		for n > 0 {
			if !cur.held {
				select {
				case cur.buf = <-free:
					cur.held = true
				case <-ctx.Done():
					return ctx.Err()
				}
				if cur.buf == nil && direct == nil {
					cur.buf = make([]byte, copyBuffer)
				}
			}
			k := min(n, int64(copyBuffer-used))
			var b []byte
			if direct != nil {
				v, release, err := direct.Span(off, int(k))
				if errors.Is(err, io.EOF) {
					return io.ErrUnexpectedEOF // shorter than the run
				} else if err != nil {
					return err
				}
				b, k = v, int64(len(v)) // cut at the end of a block
				cur.release = append(cur.release, release)
			} else {
				b = cur.buf[used : used+int(k)]
				if _, err := src.ReadAt(b, off); errors.Is(err, io.EOF) {
					return io.ErrUnexpectedEOF
				} else if err != nil {
					return err
				}
			}
			cur.pieces = append(cur.pieces, copyPiece{dst: dst, off: off, n: k, b: b})
			if used += int(k); used == copyBuffer {
				if err := flush(); err != nil {
					return err
				}
			}
			dst, off, n = dst+k, off+k, n-k
		}
	}
	return flush()
}

// writeBatch writes a batch's pieces into f, or copies them within the
// kernel.
func writeBatch(f, src *os.File, b copyBatch, bar interface{ Add(int64) }) error {
	for _, p := range b.pieces {
		var err error
		if p.b != nil {
			_, err = f.WriteAt(p.b, p.dst)
		} else {
			err = copyInKernel(f, src, p.dst, p.off, p.n)
		}
		if err != nil {
			return err
		}
		bar.Add(p.n)
	}
	return nil
}
