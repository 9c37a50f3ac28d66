package repo

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/dxdata/dx/dag"
)

// The chunks a pull downloads go into the files it writes ahead, at their
// places. Writes to a file another thread is writing wait for its inode's
// lock, and the kernel spins for it on the cores the download needs:
// while the shared runs are copied, the chunks wait in memory and the
// copy writes them between its steps, the only writer; once every copy
// is done, or while more than queueMax bytes wait, they are written as
// they arrive.

// queueMax is the most the chunks waiting for the copy hold in memory.
const queueMax = 64 << 20

// chunkSink writes downloaded chunks into the files written ahead.
type chunkSink struct {
	places map[dag.ID][]chunkPlace
	mu     sync.Mutex
	queue  []queuedChunk
	queued int  // the bytes of queue
	direct bool // every copy is done: write as they arrive
	bufs   sync.Pool
	vec    [][]byte // drain's chunks that follow one another, written in one call
	// bytes counts the bytes written.
	bytes atomic.Int64
}

// chunkPlace is where a chunk goes: the k-th chunk of a file's assembly.
type chunkPlace struct {
	f *aheadFile
	k int
}

// queuedChunk is a chunk waiting for the copy, and its places.
type queuedChunk struct {
	places []chunkPlace
	b      *[]byte
}

// newChunkSink places the chunks of files.
func newChunkSink(files []*aheadFile) *chunkSink {
	s := &chunkSink{places: map[dag.ID][]chunkPlace{}}
	for _, f := range files {
		f.written = make([]bool, len(f.asm.chunks))
		for k, c := range f.asm.chunks {
			s.places[c.ID] = append(s.places[c.ID], chunkPlace{f, k})
		}
	}
	return s
}

// put takes a chunk downloaded, whose bytes are valid during the call
// only: written at its places now, or kept until the copy writes it.
func (s *chunkSink) put(id dag.ID, raw []byte) {
	ps := s.places[id]
	if len(ps) == 0 {
		return
	}
	s.mu.Lock()
	if s.direct || s.queued+len(raw) > queueMax {
		s.mu.Unlock()
		for _, p := range ps {
			s.write(p, raw)
		}
		return
	}
	b, _ := s.bufs.Get().(*[]byte)
	if b == nil {
		b = new([]byte)
	}
	*b = append((*b)[:0], raw...)
	s.queue = append(s.queue, queuedChunk{ps, b})
	s.queued += len(raw)
	s.mu.Unlock()
}

// write writes raw at p; one it fails to write is left to the fill from
// the store.
func (s *chunkSink) write(p chunkPlace, raw []byte) {
	if _, err := p.f.f.WriteAt(raw, p.f.asm.chunkAt[p.k]); err == nil {
		s.done(p, len(raw))
	}
}

func (s *chunkSink) done(p chunkPlace, n int) {
	s.bytes.Add(int64(n))
	s.mu.Lock()
	p.f.written[p.k] = true
	s.mu.Unlock()
}

// drain writes the chunks waiting; the copy calls it between its steps.
func (s *chunkSink) drain() {
	s.mu.Lock()
	q := s.queue
	s.queue, s.queued = nil, 0
	s.mu.Unlock()
	if len(q) == 0 {
		return
	}
	type piece struct {
		p chunkPlace
		b []byte
	}
	var ps []piece
	for _, c := range q {
		for _, p := range c.places {
			ps = append(ps, piece{p, *c.b})
		}
	}
	// In order within each file, so that chunks that follow one another
	// go in one write (pwritev: not joined first, on the copy's thread).
	slices.SortFunc(ps, func(a, b piece) int {
		if a.p.f != b.p.f {
			return cmp.Compare(a.p.f.n, b.p.f.n)
		}
		return cmp.Compare(a.p.f.asm.chunkAt[a.p.k], b.p.f.asm.chunkAt[b.p.k])
	})
	for i := 0; i < len(ps); {
		j, at := i+1, ps[i].p.f.asm.chunkAt[ps[i].p.k]
		end := at + int64(len(ps[i].b))
		for j < len(ps) && ps[j].p.f == ps[i].p.f && ps[j].p.f.asm.chunkAt[ps[j].p.k] == end && end-at < 1<<20 {
			end += int64(len(ps[j].b))
			j++
		}
		if j == i+1 {
			s.write(ps[i].p, ps[i].b)
		} else {
			s.vec = s.vec[:0]
			for _, x := range ps[i:j] {
				s.vec = append(s.vec, x.b)
			}
			if err := writeVecAt(ps[i].p.f.f, s.vec, at); err == nil {
				for _, x := range ps[i:j] {
					s.done(x.p, len(x.b))
				}
			}
		}
		i = j
	}
	for _, c := range q {
		s.bufs.Put(c.b)
	}
}

// copied is called once every copy is done (or stopped: write, then, says
// whether the chunks waiting are still wanted): the chunks waiting are
// written and those to come are written as they arrive.
func (s *chunkSink) copied(write bool) {
	for {
		s.mu.Lock()
		if len(s.queue) == 0 || !write {
			s.queue, s.queued, s.direct = nil, 0, true
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		s.drain()
	}
}
