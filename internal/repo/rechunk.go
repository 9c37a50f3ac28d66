package repo

import (
	"context"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/merge"
	"github.com/dxdata/dx/store"
	"github.com/dxdata/dx/store/chunker"
)

// storeMerged stores a merged file given as pieces, chunked exactly as
// ingesting its bytes would chunk them (so that the worktree file hashes
// to the same File). Unchanged chunks are kept as they are; from the start
// of each run of new bytes (a chunk boundary of the original, so a cut
// point) the chunker runs on, through the original chunks that follow,
// until one of its cuts falls where an original chunk ends: from there on
// the original cuts are the cuts. So only a chunk or two beyond each
// change is read back. The runs are cut on all cores; a run that reaches
// past the start of the next one (two changes a chunk apart) makes that
// one's work unused, as cutting them in order would have.
func (r *Repo) storeMerged(ctx context.Context, merged mergedPieces, copts chunker.Options, keys *store.ChunkKeys) (dag.ID, uint64, error) {
	pieces, read := merged.pieces, merged.read
	type region struct {
		chunks []dag.ChunkRef
		next   int // the piece after the region
		err    error
	}
	regions := map[int]*region{}
	var starts []int
	for i, pc := range pieces {
		if pc.Chunk == nil && (i == 0 || pieces[i-1].Chunk != nil) {
			starts = append(starts, i)
			regions[i] = &region{}
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(starts)) {
		ck, err := chunker.New(nil, copts)
		if err != nil {
			return dag.ZeroID, 0, err
		}
		ck.SetLazy(true)
		// One reader and buffers per worker: chunks are at most Max bytes,
		// so they are never regrown (fresh memory costs a page fault every
		// 4 KiB, more than reading the chunk).
		worker := &cutter{keys: keys, ck: ck, reader: pieceReader{ctx: ctx, read: read, pieces: pieces, ends: map[int64]int{}, buf: make([]byte, 0, ck.Options().Max)}, chunkBuf: make([]byte, 0, ck.Options().Max)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1) - 1)
				if k >= len(starts) || ctx.Err() != nil {
					return
				}
				reg := regions[starts[k]]
				reg.chunks, reg.next, reg.err = r.cutRegion(ctx, starts[k], worker)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return dag.ZeroID, 0, err
	}
	fb := dag.NewFileBuilder(ctx, r.Store)
	for i := 0; i < len(pieces); {
		if pieces[i].Chunk != nil {
			if err := fb.Add(*pieces[i].Chunk); err != nil {
				return dag.ZeroID, 0, err
			}
			i++
			continue
		}
		reg := regions[i] // i follows an original chunk: a region starts here
		if reg.err != nil {
			return dag.ZeroID, 0, reg.err
		}
		for _, c := range reg.chunks {
			if err := fb.Add(c); err != nil {
				return dag.ZeroID, 0, err
			}
		}
		i = reg.next
	}
	return fb.Finish()
}

// cutRegion chunks and stores the pieces from start on until a cut falls
// where an original chunk ends; it returns the chunks and the index of the
// piece after that chunk (len(pieces) at the end).
func (r *Repo) cutRegion(ctx context.Context, start int, worker *cutter) ([]dag.ChunkRef, int, error) {
	reader, ck := &worker.reader, worker.ck
	reader.next, reader.cur, reader.off = start, nil, 0
	clear(reader.ends)
	ck.Reset(reader)
	var out []dag.ChunkRef
	var pos int64
	for {
		c, err := ck.Next(worker.chunkBuf[:0])
		worker.chunkBuf = c // Put keeps no reference to a chunk's bytes
		if err == io.EOF {
			return out, len(reader.pieces), nil
		}
		if err != nil {
			return nil, 0, err
		}
		id, err := r.Store.Put(ctx, dag.KindChunk, c)
		if err != nil {
			return nil, 0, err
		}
		if k := worker.keys; k != nil {
			first := start == 0 && len(out) == 0
			if keyRange, ok := k.Range(c, first); ok {
				e := store.KeyRangeEntry{KeyRangeRef: store.KeyRangeRef{ID: id, First: first}, KeyRange: keyRange}
				if err := r.Store.RecordKeyRanges(k.Tag, []store.KeyRangeEntry{e}); err != nil {
					return nil, 0, err
				}
			}
		}
		out = append(out, dag.ChunkRef{ID: id, Len: uint32(len(c))})
		pos += int64(len(c))
		if j, ok := reader.ends[pos]; ok {
			return out, j, nil // back on the original cuts
		}
	}
}

// cutter is what one worker of storeMerged cuts regions with.
type cutter struct {
	keys     *store.ChunkKeys // records the key ranges of the chunks cut, if set
	ck       *chunker.Chunker
	reader   pieceReader
	chunkBuf []byte
}

// mergedPieces is a merged file as pieces, and what reads their chunks.
type mergedPieces struct {
	pieces []merge.Piece
	read   pieceRead
}

// pieceRead reads the chunk of a piece into buf (reused).
type pieceRead func(ctx context.Context, pc merge.Piece, buf []byte) ([]byte, error)

// pieceReader reads pieces from one on: new bytes as they are, original
// chunks with read, noting where each original chunk ends.
type pieceReader struct {
	ctx    context.Context
	read   pieceRead
	pieces []merge.Piece
	next   int
	cur    []byte
	buf    []byte // what cur's original chunks are read into
	off    int64
	ends   map[int64]int // offset where an original chunk ends → index of the piece after it
}

func (p *pieceReader) Read(b []byte) (int, error) {
	for len(p.cur) == 0 {
		if p.next == len(p.pieces) {
			return 0, io.EOF
		}
		pc := p.pieces[p.next]
		p.next++
		if pc.Chunk == nil {
			p.cur = pc.Data
			continue
		}
		// One buffer, reused: cur is empty again before the next read.
		data, err := p.read(p.ctx, pc, p.buf)
		if err != nil {
			return 0, err
		}
		p.cur, p.buf = data, data[:0]
		p.ends[p.off+int64(len(data))] = p.next
	}
	n := copy(b, p.cur)
	p.cur = p.cur[n:]
	p.off += int64(n)
	return n, nil
}
