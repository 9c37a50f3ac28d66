package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/pack"
)

// Badger key prefixes.
const (
	pfxObject = 'o' // o<id> → location
	pfxPack   = 'p' // p<pack id> → pack record
	pfxRef    = 'r' // r<name> → id
	pfxHead   = 'H' // H → "ref: <name>" or hex id
	pfxLog    = 'l' // l<name>\x00<seq> → reflog entry
	pfxLogSeq = 'L' // L<name> → last seq
	pfxStat   = 's' // s<path> → stat entry
	pfxTrees  = 'T' // T → tree cache (TreeCache)
)

func objKey(id dag.ID) []byte  { return append([]byte{pfxObject}, id[:]...) }
func packKey(id dag.ID) []byte { return append([]byte{pfxPack}, id[:]...) }

// Location says where an object is stored.
type Location struct {
	Pack   dag.ID
	Kind   dag.Kind
	Codec  pack.Codec
	Offset uint64
	Stored uint32
	Raw    uint32
}

func encodeLoc(l Location) []byte {
	b := make([]byte, 0, 48)
	b = append(b, l.Pack[:]...)
	b = append(b, byte(l.Kind), byte(l.Codec))
	b = binary.AppendUvarint(b, l.Offset)
	b = binary.AppendUvarint(b, uint64(l.Stored))
	b = binary.AppendUvarint(b, uint64(l.Raw))
	return b
}

func decodeLoc(b []byte) (Location, error) {
	var l Location
	if len(b) < dag.IDSize+2 {
		return l, fmt.Errorf("index entry too short: %w", ErrCorrupt)
	}
	copy(l.Pack[:], b)
	l.Kind = dag.Kind(b[32])
	l.Codec = pack.Codec(b[33])
	r := bytes.NewReader(b[34:])
	off, err1 := binary.ReadUvarint(r)
	st, err2 := binary.ReadUvarint(r)
	raw, err3 := binary.ReadUvarint(r)
	if err := errors.Join(err1, err2, err3); err != nil || !l.Kind.Valid() || st > 1<<31 || raw > 1<<31 {
		return l, fmt.Errorf("index entry malformed: %w", ErrCorrupt)
	}
	l.Offset, l.Stored, l.Raw = off, uint32(st), uint32(raw)
	return l, nil
}

// pendingObj is an object added to a pack that is not yet indexed; stored
// is its bytes in the pack's memory buffer.
type pendingObj struct {
	stored []byte
	entry  pack.Entry
	// reserved: a writer has claimed the id and is adding the object;
	// stored and entry are not set yet.
	reserved bool
}

// sink is the pack currently being built for data or for metadata. Packs
// are built in memory and written whole by the finisher, so writers never
// wait on the file system.
type sink struct {
	mu   sync.Mutex // guards the fields below
	s    *Store
	meta bool
	// For a data sink: the number of packs started (the open one's
	// sequence number) and of the last one handed to the finisher.
	started, handed atomic.Uint64
	buf             *alignedBuf
	w               *pack.Writer
}

// packJob is a full pack on its way to the finisher, or (done != nil) a
// barrier that is closed once every job queued before it is complete.
type packJob struct {
	meta bool
	buf  *alignedBuf
	w    *pack.Writer
	done chan struct{}
}

// add appends one stored object; the caller holds k.mu. A full pack is
// handed to the finisher and writing goes on in a new one.
func (k *sink) add(id dag.ID, kind dag.Kind, codec pack.Codec, stored []byte, raw int) error {
	if err := k.s.writable("store: add object"); err != nil {
		return err
	}
	if err := k.s.finishErr(); err != nil {
		return err
	}
	if k.w == nil {
		k.buf = k.s.getBuf(k.meta)
		w, err := pack.NewWriter(k.buf)
		if err != nil {
			return fmt.Errorf("store: new pack: %w", err)
		}
		k.w = w
		k.started.Add(1)
	}
	e, err := k.w.Add(id, kind, codec, stored, raw)
	if err != nil {
		return fmt.Errorf("store: pack add: %w", err)
	}
	k.s.pmu.Lock()
	k.s.pending[id] = pendingObj{stored: k.buf.b[e.Offset : e.Offset+uint64(e.Stored) : e.Offset+uint64(e.Stored)], entry: e}
	k.s.pmu.Unlock()
	switch {
	case k.w.Size() >= k.s.opts.PackSize && k.meta:
		// Data before metadata: metadata is never indexed before the
		// chunks it names (the finisher works in queue order).
		k.s.lockData()
		k.s.enqueueData()
		k.s.enqueue(k.rotate())
		k.s.unlockData()
	case k.w.Size() >= k.s.opts.PackSize:
		k.s.enqueueSink(k)
	case k == k.s.meta && k.w.Size() >= earlyMetaPack:
		k.s.deferMeta(k.rotate())
	}
	return nil
}

// earlyMetaPack is the size at which the store's metadata pack is finished
// early, without waiting for the data packs it depends on (see deferMeta):
// so a commit of many small files indexes their File objects as it goes
// instead of all at its end (20,000 of them took 0.1 s).
const earlyMetaPack = 512 << 10

// deferredMeta is a finished metadata pack waiting for the data packs its
// objects may name: the open pack of data sink i, numbered need[i], and
// those before it.
type deferredMeta struct {
	job  *packJob
	need []uint64
}

// deferMeta hands a metadata pack to the finisher once every data pack
// open now has been handed to it (objects are Put after the chunks they
// name, so those packs hold every chunk its objects name). The caller
// holds s.meta.mu.
func (s *Store) deferMeta(j *packJob) {
	if j == nil {
		return
	}
	d := &deferredMeta{job: j, need: make([]uint64, len(s.data))}
	for i, k := range s.data {
		d.need[i] = k.started.Load()
	}
	s.deferMu.Lock()
	s.deferred = append(s.deferred, d)
	s.deferMu.Unlock()
	s.releaseDeferred()
}

// releaseDeferred enqueues the deferred metadata packs whose data packs
// have all been handed on, in order.
func (s *Store) releaseDeferred() {
	s.deferMu.Lock()
	defer s.deferMu.Unlock()
	for len(s.deferred) > 0 {
		d := s.deferred[0]
		for i, k := range s.data {
			if k.handed.Load() < d.need[i] {
				return
			}
		}
		s.enqueue(d.job)
		s.deferred = s.deferred[1:]
	}
}

// dropDeferred discards the deferred metadata packs (Abandon).
func (s *Store) dropDeferred() {
	s.deferMu.Lock()
	defer s.deferMu.Unlock()
	for _, d := range s.deferred {
		s.dropPending(d.job.w.Entries())
		s.putBuf(d.job.buf)
	}
	s.deferred = nil
}

// enqueueSink hands a data sink's open pack to the finisher, then the
// deferred metadata packs that were waiting for it. The caller holds k.mu.
func (s *Store) enqueueSink(k *sink) {
	if j := k.rotate(); j != nil {
		s.enqueue(j)
		k.handed.Store(k.started.Load())
	}
	s.releaseDeferred()
}

// rotate takes the open pack off the sink; nil if there is none. The
// caller holds k.mu.
func (k *sink) rotate() *packJob {
	if k.w == nil {
		return nil
	}
	j := &packJob{meta: k.meta, buf: k.buf, w: k.w}
	k.w, k.buf = nil, nil
	return j
}

// discard drops the open pack and its pending objects. The caller holds
// k.mu.
func (k *sink) discard() {
	if k.w == nil {
		return
	}
	k.s.dropPending(k.w.Entries())
	k.s.putBuf(k.buf)
	k.w, k.buf = nil, nil
}

// lockData takes the locks of every data sink, in order.
func (s *Store) lockData() {
	for _, d := range s.data {
		d.mu.Lock()
	}
}

func (s *Store) unlockData() {
	for _, d := range s.data {
		d.mu.Unlock()
	}
}

// enqueueData hands every open data pack to the finisher; the caller holds
// the data sinks' locks.
func (s *Store) enqueueData() {
	for _, d := range s.data {
		s.enqueueSink(d)
	}
}

// enqueue hands a job to the finisher, waiting while its queue is full
// (which bounds the packs held in memory). nil is ignored.
func (s *Store) enqueue(j *packJob) {
	if j != nil {
		s.jobs <- j
	}
}

// finisher completes packs in queue order, off the writers' path.
func (s *Store) finisher() {
	defer close(s.finished)
	for j := range s.jobs {
		if j.done != nil {
			close(j.done)
			continue
		}
		if s.finishErr() != nil {
			// After a failure nothing more is indexed: later packs may
			// name objects of the failed one.
			s.dropPending(j.w.Entries())
			s.putBuf(j.buf)
			continue
		}
		if err := s.completePack(j); err != nil {
			s.errMu.Lock()
			s.ferr = err
			s.errMu.Unlock()
		}
	}
}

func (s *Store) finishErr() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.ferr
}

// completePack writes the footer, writes the pack to a temporary file,
// fsyncs it, renames it into place, indexes it, and only then forgets its
// pending objects.
func (s *Store) completePack(j *packJob) error {
	defer s.putBuf(j.buf)
	id, _, err := j.w.Finish()
	if err != nil {
		s.dropPending(j.w.Entries())
		return fmt.Errorf("store: finish pack: %w", err)
	}
	err = s.space.claim(int64(len(j.buf.b)))
	var tmp string
	if err == nil {
		tmp, err = writeFileDirect(filepath.Join(s.dir, tmpDir), j.buf)
	}
	final := s.packPath(id)
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err == nil {
		err = syncDir(filepath.Join(s.dir, packsDir))
	}
	if err == nil {
		err = s.indexPack(id, j.meta, j.w.Entries(), j.w.Size())
	}
	if err == nil && s.indexed != nil {
		s.indexed(j.meta, j.w.Entries())
	}
	s.dropPending(j.w.Entries())
	if err != nil {
		if tmp != "" {
			os.Remove(tmp)
		}
		return fmt.Errorf("store: finish pack: %w", noSpace(err))
	}
	s.stats.PacksWritten.Add(1)
	return nil
}

func (s *Store) dropPending(es []pack.Entry) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	for _, e := range es {
		delete(s.pending, e.ID)
	}
}

// maxDataSinks caps the number of data packs open at once (one per CPU up
// to this). Data pack buffers in use are at most one per sink, one queued,
// one being finished and one waiting to be queued; the recycle channel
// holds that many, so after warm-up no data pack buffer is allocated.
const maxDataSinks = 4

// getBuf returns an empty pack buffer: a recycled one for data packs.
func (s *Store) getBuf(meta bool) *alignedBuf {
	if !meta {
		select {
		case b := <-s.bufs:
			return b
		default:
		}
		return newHugeBuf(int(s.opts.PackSize) + 1<<20)
	}
	return newAlignedBuf(1 << 20)
}

// putBuf recycles a data pack buffer once nothing refers to it, or frees
// it.
func (s *Store) putBuf(b *alignedBuf) {
	if b == nil {
		return
	}
	if b.reset(); cap(b.b) < int(s.opts.PackSize) {
		b.free()
		return
	}
	select {
	case s.bufs <- b:
	default:
		b.free()
	}
}

// freeBufs releases the recycled pack buffers (when the store closes).
func (s *Store) freeBufs() {
	for {
		select {
		case b := <-s.bufs:
			b.free()
		default:
			return
		}
	}
}

// barrier waits until every job queued so far is complete.
func (s *Store) barrier() {
	done := make(chan struct{})
	s.jobs <- &packJob{done: done}
	<-done
}

// indexPack records a finished pack and then its entries in badger. The
// pack record is committed first, so an index entry never exists without
// the record of its pack (a crash in between leaves a recorded pack whose
// objects are simply written again when needed).
func (s *Store) indexPack(id dag.ID, meta bool, entries []pack.Entry, size int64) error {
	rec := packRecord{Meta: meta, Count: uint32(len(entries)), Size: uint64(size)}
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(packKey(id), rec.encode()) }); err != nil {
		return fmt.Errorf("store: index pack: %w", err)
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, e := range entries {
		loc := Location{Pack: id, Kind: e.Kind, Codec: e.Codec, Offset: e.Offset, Stored: e.Stored, Raw: e.Raw}
		if err := wb.Set(objKey(e.ID), encodeLoc(loc)); err != nil {
			return fmt.Errorf("store: index pack: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("store: index pack: %w", err)
	}
	s.objGen.Add(1)
	return nil
}

// syncIndex makes every index write so far durable.
func (s *Store) syncIndex() error {
	if err := s.db.Sync(); err != nil {
		return fmt.Errorf("store: sync index: %w", err)
	}
	return nil
}

type packRecord struct {
	Meta  bool
	Count uint32
	Size  uint64
}

func (r packRecord) encode() []byte {
	b := []byte{0}
	if r.Meta {
		b[0] = 1
	}
	b = binary.AppendUvarint(b, uint64(r.Count))
	return binary.AppendUvarint(b, r.Size)
}

func decodePackRecord(b []byte) (packRecord, error) {
	if len(b) < 3 {
		return packRecord{}, fmt.Errorf("pack record: %w", ErrCorrupt)
	}
	r := packRecord{Meta: b[0] == 1}
	rd := bytes.NewReader(b[1:])
	c, err1 := binary.ReadUvarint(rd)
	sz, err2 := binary.ReadUvarint(rd)
	if err1 != nil || err2 != nil {
		return packRecord{}, fmt.Errorf("pack record: %w", ErrCorrupt)
	}
	r.Count, r.Size = uint32(c), sz
	return r, nil
}

// SealData hands the open data pack to the finisher without waiting for
// it, so that it is written while the caller goes on (with metadata, say).
// Later chunks start a new pack.
func (s *Store) SealData() {
	if s.closed.Load() {
		return
	}
	s.lockData()
	defer s.unlockData()
	s.enqueueData()
}

// Flush finishes the open packs and indexes them. After Flush returns,
// every object Put so far is durable and visible to other processes.
func (s *Store) Flush(ctx context.Context) error {
	if s.closed.Load() {
		return errors.New("store: flush after close")
	}
	return s.flush()
}

func (s *Store) flush() error {
	s.meta.mu.Lock()
	s.lockData()
	// Data before metadata: a metadata object is never indexed before the
	// chunks it names.
	s.enqueueData()
	s.enqueue(s.meta.rotate())
	s.unlockData()
	s.meta.mu.Unlock()
	s.barrier()
	return s.finishErr()
}

// Has reports whether the object is stored (or pending in this process).
func (s *Store) Has(ctx context.Context, id dag.ID) (bool, error) {
	if s.isPending(id) {
		return true, nil
	}
	// After the pending check: an object indexed and then dropped from
	// pending has moved the generation on, so a stale transaction is
	// not used to look for it.
	err := s.viewObjects(func(txn *badger.Txn) error {
		_, err := txn.Get(objKey(id))
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store has: %w", err)
	}
	return true, nil
}

// readTxn is a read transaction kept for object lookups, valid while the
// object index is at generation gen.
type readTxn struct {
	txn *badger.Txn
	gen uint64
}

// viewObjects runs fn in a read transaction that sees every object indexed
// so far. Transactions are reused while the object index is unchanged:
// opening and discarding one each sends to badger's watermark goroutine,
// and a 20,000-file commit looks up some 40,000 objects (reusing them made
// that commit ~8% faster).
func (s *Store) viewObjects(fn func(txn *badger.Txn) error) error {
	gen := s.objGen.Load()
	var rt *readTxn
	select {
	case rt = <-s.rtxns:
		if rt.gen != gen {
			rt.txn.Discard()
			rt = nil
		}
	default:
	}
	if rt == nil {
		rt = &readTxn{txn: s.db.NewTransaction(false), gen: gen}
	}
	err := fn(rt.txn)
	select {
	case s.rtxns <- rt:
	default:
		rt.txn.Discard()
	}
	return err
}

// dropReadTxns discards the kept read transactions (before closing the
// index).
func (s *Store) dropReadTxns() {
	for {
		select {
		case rt := <-s.rtxns:
			rt.txn.Discard()
		default:
			return
		}
	}
}

// HasMany is Has for many IDs at once, in parallel read transactions.
func (s *Store) HasMany(ctx context.Context, ids []dag.ID) ([]bool, error) {
	out := make([]bool, len(ids))
	workers := runtime.GOMAXPROCS(0)
	per := (len(ids) + workers - 1) / workers
	if per < 512 {
		per = 512
	}
	var wg sync.WaitGroup
	errs := make([]error, (len(ids)+per-1)/per)
	for w := 0; w*per < len(ids); w++ {
		lo, hi := w*per, min((w+1)*per, len(ids))
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = s.db.View(func(txn *badger.Txn) error {
				for i := lo; i < hi; i++ {
					if i%1024 == 0 && ctx.Err() != nil {
						return ctx.Err()
					}
					_, err := txn.Get(objKey(ids[i]))
					switch {
					case err == nil:
						out[i] = true
					case errors.Is(err, badger.ErrKeyNotFound):
						out[i] = s.isPending(ids[i])
					default:
						return err
					}
				}
				return nil
			})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("store has: %w", err)
	}
	return out, nil
}

// Put stores an object and returns its ID; an object already stored is not
// written again.
func (s *Store) Put(ctx context.Context, kind dag.Kind, data []byte) (dag.ID, error) {
	id := dag.Hash(kind, data)
	if ok, err := s.Has(ctx, id); err != nil || ok {
		return id, err
	}
	var stored []byte
	codec := pack.CodecRaw
	if len(data) < 128 {
		// Tiny objects (the File node of a one-chunk file) do not
		// compress; skip the attempt.
		stored = data
	} else {
		stored, codec = s.comp.Compress(nil, data)
	}
	_, err := s.putNew(int(s.nextSink.Add(1)), id, kind, len(data), stored, codec)
	return id, err
}

// putNew adds an object the caller found missing (with Has) in its stored
// form, unless another writer has added it since; it reports whether the
// object was added. Data objects go to data sink sink modulo their
// number: concurrent writers that pass different values do not wait on
// each other.
func (s *Store) putNew(sink int, id dag.ID, kind dag.Kind, raw int, stored []byte, codec pack.Codec) (bool, error) {
	// Claim the id, so that no other writer adds it to another pack.
	// Another writer's claim is waited out (it fails, or the object is
	// in its pack): the caller goes on to write objects that name this
	// one, which must not go into a pack handed on before it.
	claimed := false
	s.settledPending(id, func(_ *pendingObj, ok bool) {
		if !ok {
			s.pending[id] = pendingObj{reserved: true}
			claimed = true
		}
	})
	if !claimed {
		return false, nil
	}
	k := s.meta
	if !kind.IsMeta() {
		k = s.data[uint(sink)%uint(len(s.data))]
	}
	k.mu.Lock()
	err := k.add(id, kind, codec, stored, raw)
	k.mu.Unlock()
	if err != nil {
		s.pmu.Lock()
		if p := s.pending[id]; p.reserved {
			delete(s.pending, id)
		}
		s.pmu.Unlock()
		return false, err
	}
	if kind.IsMeta() {
		s.stats.MetaWritten.Add(1)
		s.stats.MetaBytesStored.Add(int64(len(stored)))
		s.stats.MetaBytesRaw.Add(int64(raw))
	} else {
		s.stats.ChunksWritten.Add(1)
		s.stats.DataBytesStored.Add(int64(len(stored)))
		s.stats.DataBytesRaw.Add(int64(raw))
	}
	return true, nil
}

// settledPending calls fn, under pmu, with id's pending entry once no
// writer's claim is on it (ok false: id is not pending). A claimed object
// is not in a pack yet, and whoever asks may go on to write objects that
// name it; the claim is held for one copy into a buffer.
func (s *Store) settledPending(id dag.ID, fn func(p *pendingObj, ok bool)) {
	for {
		s.pmu.Lock()
		p, ok := s.pending[id]
		if !ok || !p.reserved {
			fn(&p, ok)
			s.pmu.Unlock()
			return
		}
		s.pmu.Unlock()
		runtime.Gosched()
	}
}

// isPending reports whether id is pending (see settledPending).
func (s *Store) isPending(id dag.ID) (pending bool) {
	s.settledPending(id, func(_ *pendingObj, ok bool) { pending = ok })
	return pending
}

// pendingGet returns the pending object id (see settledPending); false if
// it is not pending. The stored bytes are a copy: the pack buffer is
// recycled once the object leaves pending.
func (s *Store) pendingGet(id dag.ID) (p pendingObj, ok bool) {
	s.settledPending(id, func(e *pendingObj, found bool) {
		if found {
			p, ok = *e, true
			p.stored = append([]byte(nil), e.stored...)
		}
	})
	return p, ok
}

// Locate returns where an object is stored.
func (s *Store) Locate(ctx context.Context, id dag.ID) (Location, error) {
	var loc Location
	err := s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(objKey(id))
		if err != nil {
			return err
		}
		return it.Value(func(v []byte) error {
			loc, err = decodeLoc(v)
			return err
		})
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return loc, fmt.Errorf("object %s: %w", id.Short(), ErrNotFound)
	}
	if err != nil {
		return loc, fmt.Errorf("object %s: %w", id.Short(), err)
	}
	return loc, nil
}

// Get returns the verified raw bytes of an object of the given kind.
func (s *Store) Get(ctx context.Context, kind dag.Kind, id dag.ID) ([]byte, error) {
	return s.get(ctx, kind, id, nil)
}

// GetInto is Get that may reuse buf's storage for the result.
func (s *Store) GetInto(ctx context.Context, kind dag.Kind, id dag.ID, buf []byte) ([]byte, error) {
	return s.get(ctx, kind, id, buf[:0])
}

// AppendObject appends the verified raw bytes of an object to dst.
func (s *Store) AppendObject(ctx context.Context, kind dag.Kind, id dag.ID, dst []byte) ([]byte, error) {
	return s.get(ctx, kind, id, dst)
}

func (s *Store) get(ctx context.Context, kind dag.Kind, id dag.ID, buf []byte) ([]byte, error) {
	var stored []byte
	var e pack.Entry
	if p, pend := s.pendingGet(id); pend {
		e, stored = p.entry, p.stored
	} else {
		loc, err := s.Locate(ctx, id)
		if err != nil {
			return nil, err
		}
		e = pack.Entry{ID: id, Kind: loc.Kind, Codec: loc.Codec, Offset: loc.Offset, Stored: loc.Stored, Raw: loc.Raw}
		f, release, err := s.packFile(loc.Pack)
		if err != nil {
			return nil, fmt.Errorf("object %s: %w", id.Short(), err)
		}
		// The stored bytes are needed only until decoded: a recycled
		// buffer (fresh memory costs a page fault every 4 KiB).
		sb, _ := s.storedBufs.Get().(*[]byte)
		if sb == nil {
			sb = new([]byte)
		}
		defer s.storedBufs.Put(sb)
		stored, err = pack.ReadBlobInto(f, e, *sb)
		release()
		if err != nil {
			return nil, fmt.Errorf("object %s in pack %s: %v: %w", id.Short(), loc.Pack.Short(), err, ErrCorrupt)
		}
		*sb = stored[:0]
		s.stats.StoredBytesRead.Add(int64(len(stored)))
	}
	if e.Kind != kind {
		return nil, fmt.Errorf("object %s is a %s, not a %s: %w", id.Short(), e.Kind, kind, ErrCorrupt)
	}
	base := len(buf)
	out, err := pack.Decompress(buf, stored, e.Codec, int(e.Raw))
	if err != nil {
		return nil, fmt.Errorf("object %s: %v: %w", id.Short(), err, ErrCorrupt)
	}
	raw := out[base:]
	if dag.Hash(kind, raw) != id {
		return nil, fmt.Errorf("object %s: content does not match its id: %w", id.Short(), ErrCorrupt)
	}
	s.stats.ObjectsRead.Add(1)
	s.stats.BytesRead.Add(int64(len(raw)))
	return out, nil
}

func (s *Store) packPath(id dag.ID) string {
	return filepath.Join(s.dir, packsDir, id.String()+".pack")
}

// packHandle is an open pack file shared by readers. An evicted handle is
// closed when its last reader releases it, never under a reader.
type packHandle struct {
	f       *os.File
	refs    int
	evicted bool
}

// maxOpenPacks bounds the pack files kept open for reading.
const maxOpenPacks = 256

// packFile opens (or reuses) a pack for reading. Call release when done.
func (s *Store) packFile(id dag.ID) (f *os.File, release func(), err error) {
	s.filesMu.Lock()
	defer s.filesMu.Unlock()
	h, ok := s.files[id]
	if !ok {
		if len(s.files) >= maxOpenPacks {
			for k, old := range s.files {
				s.evictLocked(k, old)
				break
			}
		}
		of, err := os.Open(s.packPath(id))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, nil, fmt.Errorf("pack %s is missing: %w", id.Short(), ErrCorrupt)
			}
			return nil, nil, err
		}
		h = &packHandle{f: of}
		s.files[id] = h
	}
	h.refs++
	return h.f, func() {
		s.filesMu.Lock()
		defer s.filesMu.Unlock()
		h.refs--
		if h.evicted && h.refs == 0 {
			h.f.Close()
		}
	}, nil
}

// evictLocked drops a handle from the cache, closing it now if unused.
func (s *Store) evictLocked(id dag.ID, h *packHandle) {
	delete(s.files, id)
	h.evicted = true
	if h.refs == 0 {
		h.f.Close()
	}
}

// closePacks evicts every cached pack handle.
func (s *Store) closePacks() {
	s.filesMu.Lock()
	defer s.filesMu.Unlock()
	for id, h := range s.files {
		s.evictLocked(id, h)
	}
}

// ResolvePrefix finds the unique object whose hex ID starts with prefix (at
// least 7 characters), optionally restricted to one kind.
func (s *Store) ResolvePrefix(ctx context.Context, prefix string, kind dag.Kind) (dag.ID, error) {
	if !dag.IsHexPrefix(prefix) {
		return dag.ZeroID, fmt.Errorf("%q: %w", prefix, dag.ErrBadID)
	}
	if len(prefix) == 2*dag.IDSize {
		id, err := dag.ParseID(prefix)
		if err != nil {
			return id, err
		}
		if ok, err := s.Has(ctx, id); err != nil || !ok {
			if err == nil {
				err = fmt.Errorf("object %s: %w", prefix, ErrNotFound)
			}
			return dag.ZeroID, err
		}
		return id, nil
	}
	even := prefix[:len(prefix)&^1]
	pb, _ := hex.DecodeString(even)
	var found []dag.ID
	err := s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.PrefetchValues = kind != dag.KindInvalid
		o.Prefix = append([]byte{pfxObject}, pb...)
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var id dag.ID
			copy(id[:], it.Item().Key()[1:])
			if len(prefix)%2 == 1 && hex.EncodeToString(id[:])[:len(prefix)] != toLower(prefix) {
				continue
			}
			if kind != dag.KindInvalid {
				var loc Location
				err := it.Item().Value(func(v []byte) error {
					var err error
					loc, err = decodeLoc(v)
					return err
				})
				if err != nil || loc.Kind != kind {
					continue
				}
			}
			found = append(found, id)
			if len(found) > 1 {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return dag.ZeroID, fmt.Errorf("resolve %s: %w", prefix, err)
	}
	switch len(found) {
	case 0:
		return dag.ZeroID, fmt.Errorf("object %s: %w", prefix, ErrNotFound)
	case 1:
		return found[0], nil
	}
	return dag.ZeroID, fmt.Errorf("%s: %w", prefix, ErrAmbiguous)
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'F' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

var _ dag.Getter = (*Store)(nil)
var _ dag.Putter = (*Store)(nil)

// writable fails with ErrReadOnly, naming op, if the store was opened
// read-only.
func (s *Store) writable(op string) error {
	if s.readOnly {
		return fmt.Errorf("%s: %w", op, ErrReadOnly)
	}
	return nil
}
