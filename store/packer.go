package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/pack"
)

// packer builds the pack currently open for data or for metadata. Packs
// are built in memory and handed whole to the pack finisher
// (below), which writes and indexes them, so writers never wait
// on the file system. The store has one metadata packer and several data
// packers, each with its own lock, so that chunk writers and metadata
// writers do not wait on each other, nor the ingest workers on each other.
type packer struct {
	mu    sync.Mutex // guards the fields below
	store *Store
	meta  bool
	// For a data packer: the number of packs started (the open one's
	// sequence number) and of the last one handed to the pack finisher.
	started, handed atomic.Uint64
	// lastCount: the objects in the last full pack it built.
	lastCount atomic.Int64
	buf       *alignedBuf
	w         *pack.Writer
}

// maxDataPackers caps the number of data packs open at once (one per CPU
// up to this).
const maxDataPackers = 4

// add appends one stored object; the caller holds p.mu. A full pack is
// handed to the pack finisher and writing goes on in a new one.
func (p *packer) add(id dag.ID, kind dag.Kind, codec pack.Codec, stored []byte, raw int) error {
	if err := p.open(); err != nil {
		return err
	}
	e, err := p.w.Add(id, kind, codec, stored, raw)
	if err != nil {
		return fmt.Errorf("store: pack add: %w", err)
	}
	p.added(id, e)
	return nil
}

// compressAdd adds data in the stored form comp gives it, compressed
// straight into the open pack's buffer (no copy); the caller holds p.mu.
// It returns the stored length, or ok false when no pack buffer has room
// for data in place (the caller then compresses it elsewhere and adds
// it).
func (p *packer) compressAdd(id dag.ID, kind dag.Kind, data []byte, comp *pack.Compressor) (stored int, ok bool, err error) {
	if err := p.open(); err != nil {
		return 0, true, err
	}
	bound := pack.StoredBound(len(data))
	if cap(p.buf.b)-len(p.buf.b) < bound {
		if p.w.Count() == 0 {
			return 0, false, nil
		}
		// Out of room before the pack is full: it goes a little short.
		p.store.handOffData(p)
		if err := p.open(); err != nil {
			return 0, true, err
		}
		if cap(p.buf.b)-len(p.buf.b) < bound {
			return 0, false, nil
		}
	}
	base := len(p.buf.b)
	out, codec := comp.Compress(p.buf.b, data)
	p.buf.b = out
	e, err := p.w.Appended(id, kind, codec, out[base:], len(data))
	if err != nil {
		p.buf.b = out[:base]
		return 0, true, fmt.Errorf("store: pack add: %w", err)
	}
	p.added(id, e)
	p.store.stats.ChunksInPlace.Add(1)
	return int(e.Stored), true, nil
}

// open starts a pack if none is open; the caller holds p.mu.
func (p *packer) open() error {
	s := p.store
	if err := s.writable("store: add object"); err != nil {
		return err
	}
	if err := s.finishErr(); err != nil {
		return err
	}
	if p.w == nil {
		p.buf = s.getPackBuf(p.meta)
		w, err := pack.NewWriter(p.buf)
		if err != nil {
			return fmt.Errorf("store: new pack: %w", err)
		}
		// Objects come claimed (claimIfNew), or from one pack's footer
		// (gc's rewrite): never twice.
		w.AssumeUnique()
		// As many objects as the last pack of its kind held, and an
		// eighth more: grown by appends, the object lists of a commit
		// of 200,000 small files cost 100 MB of copies.
		if n := p.lastCount.Load(); n > 0 {
			w.Expect(int(n + n/8))
		}
		p.w = w
		p.started.Add(1)
	}
	return nil
}

// added makes the object just added to the open pack pending, and hands
// the pack on when it is full; the caller holds p.mu.
func (p *packer) added(id dag.ID, e pack.Entry) {
	s := p.store
	s.pending.set(id, pendingObj{stored: p.buf.b[e.Offset : e.Offset+uint64(e.Stored) : e.Offset+uint64(e.Stored)], raw: e.Raw, kind: e.Kind, codec: e.Codec})
	switch {
	case p.w.Size() >= s.opts.PackSize && p.meta:
		// Data before metadata: metadata is never indexed before the
		// chunks it names (the pack finisher works in queue order).
		s.lockDataPackers()
		s.handOffAllData()
		s.queuePack(p.takePack())
		s.unlockDataPackers()
	case p.w.Size() >= s.opts.PackSize:
		s.handOffData(p)
	case p == s.metaPacker && p.w.Size() >= earlyMetaPack:
		s.deferMeta(p.takePack())
	}
}

// takePack takes the open pack off the packer; nil if there is none. The
// caller holds p.mu.
func (p *packer) takePack() *packJob {
	if p.w == nil {
		return nil
	}
	if p.w.Size() >= p.store.opts.PackSize {
		p.lastCount.Store(int64(p.w.Count()))
	}
	j := &packJob{meta: p.meta, buf: p.buf, w: p.w}
	p.w, p.buf = nil, nil
	return j
}

// discard drops the open pack and its pending objects. The caller holds
// p.mu.
func (p *packer) discard() {
	if p.w == nil {
		return
	}
	p.store.dropPending(p.w.Entries())
	p.store.putPackBuf(p.buf)
	p.w, p.buf = nil, nil
}

// lockDataPackers takes the locks of every data packer, in order.
func (s *Store) lockDataPackers() {
	for _, p := range s.dataPackers {
		p.mu.Lock()
	}
}

func (s *Store) unlockDataPackers() {
	for _, p := range s.dataPackers {
		p.mu.Unlock()
	}
}

// handOffData hands a data packer's open pack to the pack finisher, then
// the deferred metadata packs that were waiting for it. The caller holds
// p.mu.
func (s *Store) handOffData(p *packer) {
	if j := p.takePack(); j != nil {
		s.queuePack(j)
		p.handed.Store(p.started.Load())
	}
	s.releaseDeferred()
}

// handOffAllData hands every open data pack to the pack finisher; the
// caller holds the data packers' locks.
func (s *Store) handOffAllData() {
	for _, p := range s.dataPackers {
		s.handOffData(p)
	}
}

// SealData hands the open data pack to the pack finisher without waiting
// for it, so that it is written while the caller goes on (with metadata,
// say). Later chunks start a new pack.
func (s *Store) SealData() {
	if s.closed.Load() {
		return
	}
	s.lockDataPackers()
	defer s.unlockDataPackers()
	s.handOffAllData()
}

// Flush finishes the open packs and indexes them. After Flush returns,
// every object Put so far is durable (its pack, and the pack in the
// journal) and visible to other processes.
func (s *Store) Flush(ctx context.Context) error {
	if s.closed.Load() {
		return errors.New("store: flush after close")
	}
	if err := s.flush(); err != nil {
		return err
	}
	return s.journal.sync()
}

func (s *Store) flush() error {
	s.metaPacker.mu.Lock()
	s.lockDataPackers()
	// Data before metadata: a metadata object is never indexed before the
	// chunks it names.
	s.handOffAllData()
	s.queuePack(s.metaPacker.takePack())
	s.unlockDataPackers()
	s.metaPacker.mu.Unlock()
	s.waitPacksFinished()
	return s.finishErr()
}

// earlyMetaPack is the size at which the metadata pack is finished early,
// without waiting for the data packs it depends on (see deferMeta): so a
// commit of many small files indexes their File objects as it goes
// instead of all at its end.
const earlyMetaPack = 512 << 10

// deferredMeta is a finished metadata pack waiting for the data packs its
// objects may name: the open pack of data packer i, numbered need[i], and
// those before it.
type deferredMeta struct {
	job  *packJob
	need []uint64
}

// deferMeta hands a metadata pack to the pack finisher once every data
// pack open now has been handed to it (objects are Put after the chunks
// they name, so those packs hold every chunk its objects name). The
// caller holds s.metaPacker.mu.
func (s *Store) deferMeta(j *packJob) {
	if j == nil {
		return
	}
	d := &deferredMeta{job: j, need: make([]uint64, len(s.dataPackers))}
	for i, p := range s.dataPackers {
		d.need[i] = p.started.Load()
	}
	s.deferMu.Lock()
	s.deferred = append(s.deferred, d)
	s.deferMu.Unlock()
	s.releaseDeferred()
}

// releaseDeferred queues the deferred metadata packs whose data packs
// have all been handed on, in order.
func (s *Store) releaseDeferred() {
	s.deferMu.Lock()
	defer s.deferMu.Unlock()
	for len(s.deferred) > 0 {
		d := s.deferred[0]
		for i, p := range s.dataPackers {
			if p.handed.Load() < d.need[i] {
				return
			}
		}
		s.queuePack(d.job)
		s.deferred = s.deferred[1:]
	}
}

// dropDeferred discards the deferred metadata packs (Abandon).
func (s *Store) dropDeferred() {
	s.deferMu.Lock()
	defer s.deferMu.Unlock()
	for _, d := range s.deferred {
		s.dropPending(d.job.w.Entries())
		s.putPackBuf(d.job.buf)
	}
	s.deferred = nil
}

// packJob is a full pack on its way to the pack finisher, or (done != nil)
// a barrier that is closed once every job queued before it is complete.
type packJob struct {
	meta bool
	buf  *alignedBuf
	w    *pack.Writer
	done chan struct{}
}

// queuePack hands a job to the pack finisher, waiting while its queue is
// full (which bounds the packs held in memory). nil is ignored.
func (s *Store) queuePack(j *packJob) {
	if j != nil {
		s.finishQueue <- j
	}
}

// waitPacksFinished waits until every job queued so far is complete.
func (s *Store) waitPacksFinished() {
	done := make(chan struct{})
	s.finishQueue <- &packJob{done: done}
	<-done
}

// packFinisher completes packs in queue order, off the writers' path.
func (s *Store) packFinisher() {
	defer close(s.finisherDone)
	for j := range s.finishQueue {
		if j.done != nil {
			close(j.done)
			continue
		}
		if s.finishErr() != nil {
			// After a failure nothing more is indexed: later packs may
			// name objects of the failed one.
			s.dropPending(j.w.Entries())
			s.putPackBuf(j.buf)
			continue
		}
		if err := s.finishPack(j); err != nil {
			s.finishErrMu.Lock()
			s.finishFailure = err
			s.finishErrMu.Unlock()
		}
	}
}

// finishErr returns the pack finisher's first failure, which sticks.
func (s *Store) finishErr() error {
	s.finishErrMu.Lock()
	defer s.finishErrMu.Unlock()
	return s.finishFailure
}

// stopPackFinisher lets the pack finisher complete the queued packs and
// exit.
func (s *Store) stopPackFinisher() {
	s.stopOnce.Do(func() {
		close(s.finishQueue)
		<-s.finisherDone
	})
}

// finishPack writes the footer, writes the pack to a temporary file,
// fsyncs it, renames it into place, and indexes it, which settles its
// pending objects (markIndexed) only once they are in the object index.
func (s *Store) finishPack(j *packJob) error {
	defer s.putPackBuf(j.buf)
	id, _, err := j.w.Finish()
	if err != nil {
		s.dropPending(j.w.Entries())
		return fmt.Errorf("store: finish pack: %w", err)
	}
	err = s.space.claim(int64(len(j.buf.b)))
	if err == nil {
		err = placeFileDirect(filepath.Join(s.dir, tmpDir), j.buf, s.packPath(id), filepath.Join(s.dir, packsDir))
	}
	if err == nil {
		err = s.indexPack(id, j.meta, j.w.Entries(), j.w.Size())
	}
	if err == nil && s.indexed != nil {
		s.indexed(j.meta, j.w.Entries())
	}
	if err != nil {
		s.dropPending(j.w.Entries()) // (indexing settles them: markIndexed)
		return fmt.Errorf("store: finish pack: %w", noSpace(err))
	}
	s.stats.PacksWritten.Add(1)
	return nil
}
