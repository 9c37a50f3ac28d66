package store

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/pack"
)

// Located is a list of objects whose locations are read from the index
// ahead of their bytes, with their packs held open: its objects are then
// read without the index, in runs of neighbours read at once, even after
// the store is closed or gc deleted their packs, until Close. A reader of
// a long file locates its chunks while it holds the store open and
// streams them after.
type Located struct {
	s    *Store
	kind dag.Kind
	ids  []dag.ID
	locs []objLoc // locs[i] is valid once Locate covered i

	mu       sync.Mutex
	packs    []*os.File
	releases []func()
	packIdx  map[dag.ID]uint32
	pending  map[int][]byte // stored bytes of objects not yet in a pack

	// WillNeed's: where the last span it saw of each pack ended, and how
	// it hints (willNeed; a test's recorder).
	readTo map[uint32]uint64
	hint   func(f *os.File, off, n int64)
}

// objLoc is a Location with its pack numbered in Located.packs.
type objLoc struct {
	offset uint64
	stored uint32
	raw    uint32
	pack   uint32
	kind   dag.Kind
	codec  pack.Codec
}

// pendingPack marks an object read from pending rather than a pack.
const pendingPack = ^uint32(0)

// NewLocated returns the objects ids of kind, none located yet. It keeps
// ids, which the caller must not modify.
func (s *Store) NewLocated(kind dag.Kind, ids []dag.ID) *Located {
	return &Located{s: s, kind: kind, ids: ids, locs: make([]objLoc, len(ids)), packIdx: map[dag.ID]uint32{}, hint: willNeed}
}

// Len is the number of objects.
func (l *Located) Len() int { return len(l.ids) }

// ID is object i's id.
func (l *Located) ID(i int) dag.ID { return l.ids[i] }

// Raw is the size of object i once decoded (once located).
func (l *Located) Raw(i int) int { return int(l.locs[i].raw) }

// Locate reads the locations of objects [i, j) from the index and opens
// their packs. The store must be open; objects not found are ErrNotFound.
func (l *Located) Locate(ctx context.Context, i, j int) error {
	for k := i; k < j; k++ {
		if k%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		id := l.ids[k]
		if p, ok := l.s.pendingGet(id); ok {
			l.mu.Lock()
			if l.pending == nil {
				l.pending = map[int][]byte{}
			}
			l.pending[k] = p.stored
			l.mu.Unlock()
			l.locs[k] = objLoc{stored: uint32(len(p.stored)), raw: p.raw, pack: pendingPack, kind: p.kind, codec: p.codec}
			continue
		}
		loc, err := l.s.Locate(ctx, id)
		if err != nil {
			return err
		}
		p, err := l.openPack(loc.Pack)
		if err != nil {
			return fmt.Errorf("object %s: %w", id.Short(), err)
		}
		l.locs[k] = objLoc{offset: loc.Offset, stored: loc.Stored, raw: loc.Raw, pack: p, kind: loc.Kind, codec: loc.Codec}
	}
	return nil
}

// openPack returns the number of pack id in l, opening it the first time.
func (l *Located) openPack(id dag.ID) (uint32, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p, ok := l.packIdx[id]; ok {
		return p, nil
	}
	f, release, err := l.s.packFile(id)
	if err != nil {
		return 0, err
	}
	p := uint32(len(l.packs))
	l.packs, l.releases = append(l.packs, f), append(l.releases, release)
	l.packIdx[id] = p
	return p, nil
}

// Close releases the packs l holds open.
func (l *Located) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, release := range l.releases {
		release()
	}
	l.packs, l.releases = nil, nil
}

// WillNeed asks the system to start reading the stored bytes of located
// objects [i, j) where they do not follow the bytes read before them from
// their pack: one hint for each such span. Objects scattered over packs,
// read cold one after another, each wait for the disk in turn; hinted
// together, their reads are in flight at once. A pack read in order (a
// file's chunks, even interleaved over a few packs) is left to the
// system's own read-ahead. Calls must be in order, from one goroutine; it
// does nothing where the system takes no hint.
func (l *Located) WillNeed(i, j int) {
	type span struct {
		start, end uint64
		follows    bool // it starts where the pack's last span ended
	}
	if l.readTo == nil {
		l.readTo = map[uint32]uint64{}
	}
	l.mu.Lock()
	packs := l.packs
	l.mu.Unlock()
	open := map[uint32]*span{}
	closeSpan := func(p uint32, sp *span) {
		if !sp.follows && int(p) < len(packs) {
			l.hint(packs[p], int64(sp.start), int64(sp.end-sp.start))
		}
		l.readTo[p] = sp.end
	}
	for k := i; k < j; k++ {
		c := l.locs[k]
		if c.pack == pendingPack {
			continue
		}
		sp := open[c.pack]
		if sp != nil && sp.end == c.offset {
			sp.end += uint64(c.stored)
			continue
		}
		if sp != nil {
			closeSpan(c.pack, sp)
		}
		to, ok := l.readTo[c.pack]
		open[c.pack] = &span{start: c.offset, end: c.offset + uint64(c.stored), follows: ok && to == c.offset}
	}
	for p, sp := range open {
		closeSpan(p, sp)
	}
}

// Run is the stored bytes of located objects read at once: an object and
// those after it that follow it back to back in its pack.
type Run struct {
	l           *Located
	pack        uint32
	start, stop uint64 // the run's bytes in the pack
	pending     int    // the object of a run from pending, else -1
	b           []byte
}

// ReadRun reads object i and, in the same read, the objects of (i, end)
// that follow it back to back in its pack, skipping the objects stored
// elsewhere (a big file's chunks are spread over a few packs, in order in
// each), up to limit stored bytes in all. It reads into buf's storage when
// it is big enough.
func (l *Located) ReadRun(i, end, limit int, buf []byte) (Run, error) {
	first := l.locs[i]
	if first.pack == pendingPack {
		l.mu.Lock()
		b := l.pending[i]
		l.mu.Unlock()
		return Run{l: l, pack: pendingPack, pending: i, b: b}, nil
	}
	stop := first.offset + uint64(first.stored)
	for k := i + 1; k < end; k++ {
		c := l.locs[k]
		if c.pack != first.pack {
			continue
		}
		if c.offset != stop || stop+uint64(c.stored)-first.offset > uint64(limit) {
			break
		}
		stop += uint64(c.stored)
	}
	n := int(stop - first.offset)
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	l.mu.Lock()
	var f *os.File
	if int(first.pack) < len(l.packs) {
		f = l.packs[first.pack]
	}
	l.mu.Unlock()
	if f == nil {
		return Run{}, fmt.Errorf("object %s: read after Close", l.ids[i].Short())
	}
	if _, err := f.ReadAt(buf, int64(first.offset)); err != nil {
		return Run{}, fmt.Errorf("object %s: pack read: %v: %w", l.ids[i].Short(), err, ErrCorrupt)
	}
	l.s.stats.StoredBytesRead.Add(int64(n))
	return Run{l: l, pack: first.pack, start: first.offset, stop: stop, pending: -1, b: buf}, nil
}

// Has reports whether object k's stored bytes are in the run.
func (r Run) Has(k int) bool {
	if r.l == nil {
		return false
	}
	if r.pack == pendingPack {
		return k == r.pending
	}
	c := r.l.locs[k]
	return c.pack == r.pack && c.offset >= r.start && c.offset+uint64(c.stored) <= r.stop
}

// Bytes returns the buffer the run was read into (to reuse it).
func (r Run) Bytes() []byte { return r.b }

// Append decompresses object k of the run, verifies it against its id and
// appends it to dst.
func (r Run) Append(k int, dst []byte) ([]byte, error) {
	if !r.Has(k) {
		return dst, fmt.Errorf("object %s is not in the run", r.l.ids[k].Short())
	}
	c := r.l.locs[k]
	stored := r.b
	if r.pack != pendingPack {
		at := c.offset - r.start
		stored = r.b[at : at+uint64(c.stored)]
	}
	return r.l.s.decodeVerified(r.l.kind, r.l.ids[k], c.kind, c.codec, int(c.raw), stored, dst)
}

// decodeVerified decompresses the stored bytes of object id, stored as a
// kind with codec, appends them to dst and checks that they are a want
// whose id is id.
func (s *Store) decodeVerified(want dag.Kind, id dag.ID, kind dag.Kind, codec pack.Codec, raw int, stored, dst []byte) ([]byte, error) {
	if kind != want {
		return nil, fmt.Errorf("object %s is a %s, not a %s: %w", id.Short(), kind, want, ErrCorrupt)
	}
	base := len(dst)
	out, err := pack.Decompress(dst, stored, codec, raw)
	if err != nil {
		return nil, fmt.Errorf("object %s: %v: %w", id.Short(), err, ErrCorrupt)
	}
	data := out[base:]
	if dag.Hash(kind, data) != id {
		return nil, fmt.Errorf("object %s: content does not match its id: %w", id.Short(), ErrCorrupt)
	}
	s.stats.ObjectsRead.Add(1)
	s.stats.BytesRead.Add(int64(len(data)))
	return out, nil
}
