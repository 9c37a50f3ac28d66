package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/chunker"
	"github.com/dxdata/dx/store/pack"
)

// IngestMode says what the ingest pipeline does with each chunk.
type IngestMode uint8

const (
	// IngestStore chunks, hashes, compresses and stores new chunks and the
	// File objects built from them.
	IngestStore IngestMode = iota
	// IngestHash only chunks and hashes: it computes File IDs and writes
	// nothing (status uses it).
	IngestHash
	// IngestCompressOnly does all the work of IngestStore but stores
	// nothing: the ceiling that storage overhead is measured against.
	IngestCompressOnly
)

func (m IngestMode) String() string {
	switch m {
	case IngestStore:
		return "store"
	case IngestHash:
		return "hash"
	case IngestCompressOnly:
		return "compress-only"
	}
	return fmt.Sprintf("ingest(%d)", uint8(m))
}

// IngestFile names one file to ingest.
type IngestFile struct {
	Path string // opened when Open is nil
	Name string // for messages and for choosing the cut mode; default Path
	// Open, if set, supplies the content instead of os.Open(Path).
	Open func() (io.ReadCloser, error)
	// Keys, if set, records the key range of each chunk (IngestStore).
	Keys *ChunkKeys
	// Layout says whether the file is Parquet, to be cut at its pages.
	Layout Layout
	// Observe, if set, is called with each chunk of the file (seq: its
	// place in the file) on the core that hashes it, several at once, in
	// no order; chunk is valid only during the call. If it reports ok,
	// r is the chunk's key range as Keys.Range would read it, which is
	// then not called (one reading of the rows, not two).
	Observe func(seq int, chunk []byte) (r dag.KeyRange, ok bool)
	// Stat, if set, receives the file's stat as it is opened, before it
	// is read (where StatsOpened; Path only): a scan that did not stat a
	// file it must read leaves that to the open file descriptor, one
	// path lookup instead of two. A file that is no longer regular
	// there is an error.
	Stat *FileStat
}

// IngestResult is the File built from one input.
type IngestResult struct {
	ID   dag.ID
	Size uint64 // bytes actually read
}

// IngestOptions configure Ingest.
type IngestOptions struct {
	Mode    IngestMode
	Workers int // zero: the store's Options.Workers, else GOMAXPROCS
	// Chunking overrides the chunker sizes; the text mode is always sniffed
	// per file. Zero value: chunker.DefaultOptions().
	Chunking chunker.Options
	// Progress, if set, is called with the number of bytes each processed
	// chunk adds. It must be safe for concurrent use.
	Progress func(n int64)
	// FileDone, if set, is called as each file's File object is built. It
	// must be safe for concurrent use.
	FileDone func()
	// StoredBytes, if set, accumulates the stored (compressed) size of the
	// chunks compressed: all of them in IngestCompressOnly (the ceiling
	// measurement), the new ones in IngestStore.
	StoredBytes *atomic.Int64
	// Sink, if set, compresses and keeps the chunks of IngestCompressOnly
	// in place of the pipeline's scratch buffer (the ceiling's writes).
	Sink ChunkSink
	// Warn, if set, is told of a file that is stored otherwise than its
	// layout says (a Parquet file that is not valid Parquet), once per
	// file (IngestStore only).
	Warn func(msg string)
}

// ChunkSink takes the chunks of IngestCompressOnly: Compress compresses
// data with comp into the sink's own memory and returns the stored length.
// worker numbers the calling ingest worker, from 0 below
// IngestOptions.Workers (or GOMAXPROCS); one worker's calls come one at a
// time.
type ChunkSink interface {
	Compress(worker int, data []byte, comp *pack.Compressor) (stored int, err error)
}

// Ingest turns files into stored File objects, reading, chunking, hashing
// and compressing on all cores with bounded memory. Results are in input
// order. s may be nil for IngestHash and IngestCompressOnly.
func (s *Store) Ingest(ctx context.Context, files []IngestFile, o IngestOptions) ([]IngestResult, error) {
	if s == nil && o.Mode == IngestStore {
		return nil, errors.New("store: ingest into a nil store")
	}
	w := o.Workers
	if w <= 0 && s != nil {
		w = s.opts.Workers // (the store's Options.Workers)
	}
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	copts := o.Chunking
	if copts == (chunker.Options{}) {
		copts = chunker.DefaultOptions()
	}
	if err := copts.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	p := &pipeline{s: s, o: o, copts: copts, jobs: make(chan *chunkJob, 4*w), cancel: cancel}
	if s != nil {
		p.comp = s.comp
		p.ownPackers = s.ownPackers(w)
		if o.Mode == IngestStore {
			// A chunk and a File object at least for each file.
			s.reservePending(2 * len(files))
		}
	} else {
		p.comp = pack.NewCompressor()
	}
	// A job's buffer has room for a batch of batchBytes and then any one
	// chunk more (see handOn).
	p.bufs.New = func() any { b := make([]byte, 0, batchBytes+copts.Max); return &b }

	var wg sync.WaitGroup
	for i := 0; i < w; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.work(ctx, i)
		}()
	}
	results := make([]IngestResult, len(files))
	var next atomic.Int64 // the index of the next file to read
	var fwg, cwg sync.WaitGroup
	// Readers open and chunk files and hand the chunks on; they do not
	// wait for a file's chunks to be compressed before reading the next
	// one (a collector per file builds its File object), so a slow file
	// does not hold a reader. (Measured on 20,000 small files, this and
	// the counter below changed the time by less than the run-to-run
	// noise; the gains were elsewhere: see packer and newHugeBuf.) Each
	// reader holds a chunker buffer, so the count is capped; the files in
	// flight are capped by the pool of collector states.
	readers := min(4*w+4, 32)
	if readers > len(files) {
		readers = len(files)
	}
	p.states = make(chan *fileState, 4*readers)
	collectors := make([]*fileState, cap(p.states))
	for i := range collectors {
		st := newFileState()
		collectors[i] = st
		go p.collector(ctx, st)
		p.states <- st
	}
	defer func() {
		for _, st := range collectors {
			close(st.files)
		}
	}()
	ra := startReadAhead(files, &next)
	for i := 0; i < readers; i++ {
		fwg.Add(1)
		go func() {
			defer fwg.Done()
			ck, _ := chunker.New(eofReader{}, copts)
			// Files are taken by an atomic counter rather than from
			// a feeding goroutine, which had to be scheduled between
			// the busy workers for every file.
			for ctx.Err() == nil {
				idx := int(next.Add(1) - 1)
				if idx >= len(files) {
					return
				}
				fd := ra.take(idx)
				if err := p.file(ctx, ck, files[idx], fd, &results[idx], &cwg); err != nil {
					cancel(err)
				}
			}
		}()
	}
	fwg.Wait()
	ra.close()
	cwg.Wait()
	close(p.jobs)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		p.ranges.cancel()
		return nil, err
	}
	if err := p.ranges.flush(); err != nil {
		return nil, err
	}
	return results, nil
}

// batchBytes is the size at which a batch of chunks is handed on (see
// handOn).
const batchBytes = 16 << 10

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

type pipeline struct {
	s      *Store
	o      IngestOptions
	copts  chunker.Options
	comp   *pack.Compressor
	cancel context.CancelCauseFunc
	jobs   chan *chunkJob
	bufs   sync.Pool
	// states holds the idle per-file collector states; taking one
	// bounds the files in flight.
	states chan *fileState
	stored atomic.Int64 // bytes of the chunks handed to the workers
	// ownPackers: each worker has a data packer of its own (store).
	ownPackers bool
	ranges     keyRangeWriter
}

// chunkJob is a batch of consecutive chunks of one file: chunk i is
// (*data)[ends[i-1]:ends[i]], the file's chunk seq+i.
type chunkJob struct {
	data    *[]byte
	ends    []int
	endsBuf [4]int // ends' first, in the job's own allocation
	seq     int
	out     chan<- chunkDone
	keys    *ChunkKeys // of the file, if its key ranges are recorded
	// observe is the file's Observe.
	observe func(seq int, chunk []byte) (dag.KeyRange, bool)
}

type chunkDone struct {
	seq int
	ref dag.ChunkRef
	err error
}

// work hashes, compresses and stores chunks until the job queue closes.
func (p *pipeline) work(ctx context.Context, worker int) {
	var cbuf []byte
	for j := range p.jobs {
		start := 0
		for i, end := range j.ends {
			d := p.chunk(ctx, worker, j, j.seq+i, (*j.data)[start:end], &cbuf)
			start = end
			if d.err != nil {
				p.cancel(d.err)
			}
			j.out <- d
		}
		p.bufs.Put(j.data)
	}
}

// chunk hashes, compresses and stores one chunk of job j, the file's chunk
// seq, with cbuf as scratch.
func (p *pipeline) chunk(ctx context.Context, worker int, j *chunkJob, seq int, data []byte, cbuf *[]byte) chunkDone {
	// Each worker writes to a data pack of its own, once there is
	// enough data to fill several: a small commit makes one pack.
	// A worker whose pack is its own compresses into it in place.
	packerHint, own := 0, false
	if p.o.Mode == IngestStore && p.stored.Add(int64(len(data))) > 2*p.s.opts.PackSize {
		packerHint, own = worker, p.ownPackers
	}
	stored := 0
	d := chunkDone{seq: seq, ref: dag.ChunkRef{ID: dag.Hash(dag.KindChunk, data), Len: uint32(len(data))}}
	var observed dag.KeyRange
	var observedOK bool
	if j.observe != nil && ctx.Err() == nil {
		observed, observedOK = j.observe(seq, data)
	}
	if ctx.Err() == nil {
		switch p.o.Mode {
		case IngestStore:
			var claimed bool
			claimed, d.err = p.s.claimIfNew(d.ref.ID)
			has := !claimed
			switch {
			case d.err != nil || has:
			case own:
				stored, d.err = p.s.compressClaimed(packerHint, d.ref.ID, data, p.comp)
			default:
				var codec pack.Codec
				*cbuf, codec = p.comp.Compress((*cbuf)[:0], data)
				stored = len(*cbuf)
				d.err = p.s.putClaimed(packerHint, d.ref.ID, dag.KindChunk, len(data), *cbuf, codec)
			}
			if k := j.keys; d.err == nil && k != nil && (!has || !p.s.hasKeyRange(k.Tag, seq == 0, d.ref.ID)) {
				r, ok := observed, observedOK
				if !ok {
					r, ok = k.Range(data, seq == 0)
				}
				if ok {
					d.err = p.ranges.add(p.s, k.Tag, seq == 0, d.ref.ID, r)
				}
			}
		case IngestCompressOnly:
			if p.o.Sink != nil {
				stored, d.err = p.o.Sink.Compress(worker, data, p.comp)
				break
			}
			*cbuf, _ = p.comp.Compress((*cbuf)[:0], data)
			stored = len(*cbuf)
		}
	}
	if p.o.StoredBytes != nil {
		p.o.StoredBytes.Add(int64(stored))
	}
	if p.o.Progress != nil {
		p.o.Progress(int64(len(data)))
	}
	return d
}

// fileState is a collector: a goroutine that builds the File objects of
// the files handed to it, one file at a time, and what it uses. Collectors
// live as long as the ingest (allocating their states per file cost page
// faults and GC work with many small files, and a goroutine per file grew
// a new stack for each File's hash).
type fileState struct {
	files   chan collectJob // the file to build next
	results chan chunkDone  // drained completely by the end of each file
	total   chan int
	pending map[int]dag.ChunkRef
}

// collectJob is one file for a collector.
type collectJob struct {
	fb   *dag.FileBuilder
	name string
	out  *IngestResult
	cwg  *sync.WaitGroup
}

func newFileState() *fileState {
	return &fileState{
		files:   make(chan collectJob, 1),
		results: make(chan chunkDone, 64),
		total:   make(chan int, 1),
		pending: map[int]dag.ChunkRef{},
	}
}

// collector builds the files handed to st until its channel closes.
func (p *pipeline) collector(ctx context.Context, st *fileState) {
	for j := range st.files {
		p.collect(ctx, st, j.fb, j.name, j.out, j.cwg)
	}
}

// file chunks one file and hands its chunks to the workers; a collector
// goroutine (counted in cwg) builds its File object from their results in
// order and stores it in *out. fd, if not -1, is the file open already
// (by the read-ahead); file closes it. An error in reading is returned;
// one in building the File cancels the ingest.
func (p *pipeline) file(ctx context.Context, ck *chunker.Chunker, f IngestFile, fd int, out *IngestResult, cwg *sync.WaitGroup) error {
	name := f.Name
	if name == "" {
		name = f.Path
	}
	var rc io.ReadCloser
	var err error
	switch {
	case f.Open != nil:
		rc, err = f.Open()
	case fd >= 0:
		rc = fromFd(fd, f.Path)
	default:
		rc, err = openRead(f.Path)
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	defer rc.Close()
	if f.Stat != nil {
		if err := statOpened(rc, f.Stat); err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
	}
	next, err := p.cutter(ck, f, rc, name)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	var st *fileState
	select {
	case st = <-p.states:
	case <-ctx.Done():
		return context.Cause(ctx)
	}

	var putter dag.Putter = hashPutter{}
	if p.o.Mode == IngestStore {
		putter = p.s
	}
	cwg.Add(1)
	st.files <- collectJob{fb: dag.NewFileBuilder(ctx, putter), name: name, out: out, cwg: cwg}
	seq, readErr := p.handOn(ctx, next, st, f, name)
	// The collector waits for exactly the chunks handed on, even after an
	// error, so no worker is left sending to it.
	st.total <- seq
	return readErr
}

// handOn hands the chunks next yields to the workers, for collector st,
// and returns how many it handed on. Chunks travel in batches of
// batchBytes (or to the file's end): one job, one send and one wake-up of
// a worker for many small chunks (a Parquet file's pages of a few KiB
// each), which had left the reader and the workers taking turns waiting
// on a queue of single chunks.
func (p *pipeline) handOn(ctx context.Context, next func([]byte) ([]byte, error), st *fileState, f IngestFile, name string) (seq int, err error) {
	for eof := false; !eof && err == nil; {
		bp := p.bufs.Get().(*[]byte)
		j := &chunkJob{data: bp, seq: seq, out: st.results, keys: f.Keys, observe: f.Observe}
		j.ends = j.endsBuf[:0]
		var alone *chunkJob // a chunk next put in a buffer of its own
		buf := (*bp)[:0]
		// Each chunk is cut into the room after the last (no copy), and
		// no chunk is over copts.Max.
		for len(buf) < batchBytes && cap(buf)-len(buf) >= p.copts.Max {
			c, rerr := next(buf[len(buf):len(buf)])
			if rerr == io.EOF {
				eof = true
				break
			}
			if rerr != nil {
				err = fmt.Errorf("read %s: %w", name, rerr)
				break
			}
			if len(c) > 0 && &c[0] != &buf[len(buf):cap(buf)][0] {
				// It did not fit (a cutter's chunk over copts.Max):
				// a job of its own, after this one.
				own := c // (c itself stays on the stack)
				alone = &chunkJob{data: &own, ends: []int{len(c)}, seq: seq + len(j.ends), out: st.results, keys: f.Keys, observe: f.Observe}
				break
			}
			buf = buf[:len(buf)+len(c)]
			j.ends = append(j.ends, len(buf))
		}
		*bp = buf
		for _, job := range []*chunkJob{j, alone} {
			switch {
			case job == nil:
				continue
			case len(job.ends) > 0 && err == nil:
				select {
				case p.jobs <- job:
					seq += len(job.ends)
					continue
				case <-ctx.Done():
					err = context.Cause(ctx)
				}
			}
			p.bufs.Put(job.data)
		}
	}
	return seq, err
}

// collect receives the chunk results of one file, adds them to fb in order
// and finishes the File object into *out. It recycles st when done, and
// is done with st once it has (the next file may have it).
func (p *pipeline) collect(ctx context.Context, st *fileState, fb *dag.FileBuilder, name string, out *IngestResult, cwg *sync.WaitGroup) {
	defer cwg.Done()
	pending := st.pending
	clear(pending)
	nextSeq, got, want := 0, 0, -1
	tc := st.total
	var cerr error
	for want < 0 || got < want {
		select {
		case want = <-tc:
			tc = nil
			continue
		case d := <-st.results:
			got++
			if d.err != nil && cerr == nil {
				cerr = d.err
			}
			pending[d.seq] = d.ref
		}
		for {
			r, ok := pending[nextSeq]
			if !ok {
				break
			}
			delete(pending, nextSeq)
			nextSeq++
			if cerr == nil {
				cerr = fb.Add(r)
			}
		}
	}
	p.states <- st
	if cerr != nil {
		// A worker's error has cancelled the ingest already (the first
		// cause sticks); one from fb.Add has not.
		p.cancel(cerr)
		return
	}
	if ctx.Err() != nil {
		return // a read error, say: the reader reports it
	}
	id, size, err := fb.Finish()
	if err != nil {
		p.cancel(fmt.Errorf("ingest %s: %w", name, err))
		return
	}
	*out = IngestResult{ID: id, Size: size}
	if p.o.FileDone != nil {
		p.o.FileDone()
	}
}

// hashPutter computes IDs and stores nothing.
type hashPutter struct{}

func (hashPutter) Put(_ context.Context, k dag.Kind, b []byte) (dag.ID, error) {
	return dag.Hash(k, b), nil
}
