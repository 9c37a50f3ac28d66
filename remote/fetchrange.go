package remote

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/hugeheap"
	"github.com/dxdata/dx/store"
	"github.com/dxdata/dx/store/pack"
)

// A fetch's ranged GETs: the wanted objects of each pack coalesced into
// ranges, downloaded with pooled buffers and checked object by object.

// Range planning: needed objects of one pack closer than the gap are read
// with one GET; a range is never longer than maxRange unless one object
// is.
const (
	metaGap  = 1 << 20
	dataGap  = 256 << 10
	maxRange = 16 << 20
)

// A push writes a pack's metadata children first and its commits last,
// so what a pushed commit names lies before it in its pack: a metadata
// span that holds a commit reaches back over the metadata entries before
// it, up to metaBehind bytes (metaBehindMax over a fetch), and one GET
// brings the commit's trees and file nodes rather than one GET a level.
const (
	metaBehind    = 4 << 20
	metaBehindMax = 64 << 20
)

// span is one ranged GET: a run of one pack's entries.
type span struct {
	pack    dag.ID
	off, n  int64
	entries []pack.Entry // every entry inside the range, in order
	needed  map[dag.ID]bool
}

// plan groups the wanted objects by pack and coalesces them into ranges.
func (f *fetcher) plan(ws []want, gap int64) []span {
	byPack := map[dag.ID][]pack.Entry{}
	for _, w := range ws {
		byPack[w.loc.Pack] = append(byPack[w.loc.Pack], w.loc.Entry)
	}
	var out []span
	for p, es := range byPack {
		slices.SortFunc(es, func(a, b pack.Entry) int { return int(int64(a.Offset) - int64(b.Offset)) })
		all := f.ix.packEntries(p)
		var cur *span
		for _, e := range es {
			start, end := int64(e.Offset), int64(e.Offset)+int64(e.Stored)
			if cur != nil && start-(cur.off+cur.n) <= gap && end-cur.off <= maxRange {
				cur.n = end - cur.off
				cur.needed[e.ID] = true
				continue
			}
			out = append(out, span{pack: p, off: start, n: end - start, needed: map[dag.ID]bool{e.ID: true}})
			cur = &out[len(out)-1]
		}
		for i := range out {
			s := &out[i]
			if s.pack != p {
				continue
			}
			for j := entryAt(all, s.off); j < len(all) && int64(all[j].Offset) < s.off+s.n; j++ {
				s.entries = append(s.entries, all[j])
			}
		}
	}
	// Largest first keeps the workers busy to the end.
	slices.SortFunc(out, func(a, b span) int { return int(b.n - a.n) })
	return out
}

// entryAt is the index of the first of a pack's entries (in offset
// order) at or after off.
func entryAt(all []pack.Entry, off int64) int {
	i, _ := slices.BinarySearchFunc(all, off, func(e pack.Entry, off int64) int { return cmp.Compare(int64(e.Offset), off) })
	return i
}

// reachBack extends the spans that hold a commit back over the metadata
// entries before them in their pack, short of another span of it.
func (f *fetcher) reachBack(spans []span) {
	ends := map[dag.ID][]int64{} // where each pack's spans end
	for _, s := range spans {
		ends[s.pack] = append(ends[s.pack], s.off+s.n)
	}
	for i := range spans {
		s := &spans[i]
		if !slices.ContainsFunc(s.entries, func(e pack.Entry) bool { return e.Kind == dag.KindCommit && s.needed[e.ID] }) {
			continue
		}
		floor := int64(0) // the end of the pack's last span before s
		for _, end := range ends[s.pack] {
			if end <= s.off {
				floor = max(floor, end)
			}
		}
		all := f.ix.packEntries(s.pack)
		lo := entryAt(all, s.off)
		j := lo
		for j > 0 {
			e, start := all[j-1], int64(all[j-1].Offset)
			if !e.Kind.IsMeta() || start < floor || s.off-start > metaBehind || s.off+s.n-start > maxRange || f.behind+s.off-start > metaBehindMax {
				break
			}
			j--
		}
		if j == lo {
			continue
		}
		add := s.off - int64(all[j].Offset)
		f.behind += add
		s.entries = append(slices.Clone(all[j:lo]), s.entries...)
		s.off, s.n = s.off-add, s.n+add
	}
}

// download reads the ranges covering ws with Parallel GETs, verifies every
// object inside them as soon as its bytes are in (the rest of its range
// still arriving), and calls fn for each with its bytes (a chunk's are
// valid during the call only; needed says whether it was asked for, or
// merely lay inside the range). With all set (metadata), objects that lie
// in the range but were not asked for are verified and passed on too, and
// a range that holds a commit reaches back over the metadata pushed with
// it (reachBack).
func (f *fetcher) download(ctx context.Context, ws []want, gap int64, all bool, fn func(o store.Stored, raw []byte, needed bool) error) error {
	if len(ws) == 0 {
		return nil
	}
	spans := f.plan(ws, gap)
	if all {
		f.reachBack(spans)
	}
	bufs := newRangeBufs(f.o.Parallel)
	defer bufs.release()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(f.o.Parallel)
	for _, s := range spans {
		g.Go(func() error {
			buf, scratch := bufs.get(s.n)
			defer func() { bufs.put(buf, scratch) }()
			rd, err := f.openRange(gctx, s, buf)
			if err != nil {
				return err
			}
			defer rd.Close()
			for _, e := range s.entries {
				needed := s.needed[e.ID]
				if !needed && !all {
					continue
				}
				at := int64(e.Offset) - s.off
				if err := rd.through(at + int64(e.Stored)); err != nil {
					return err
				}
				stored := buf[at : at+int64(e.Stored)]
				raw, err := pack.Decompress(scratch[:0], stored, e.Codec, int(e.Raw))
				if err == nil && dag.Hash(e.Kind, raw) != e.ID {
					err = fmt.Errorf("content does not match its id")
				}
				if err != nil {
					if !needed {
						continue // not ours to judge; a later fetch asks for it
					}
					return fmt.Errorf("%s: object %s in %s: %v: %w", f.be, e.ID.Short(), packKey(s.pack), err, ErrIntegrity)
				}
				scratch = raw[:0]
				o := store.Stored{ID: e.ID, Kind: e.Kind, Codec: e.Codec, Raw: e.Raw, Stored: stored}
				if e.Kind.IsMeta() {
					raw = append([]byte(nil), raw...)
					o.Stored = append([]byte(nil), stored...)
				}
				if err := fn(o, raw, needed); err != nil {
					return err
				}
			}
			return rd.through(s.n) // all of it: a pack cut short shows
		})
	}
	return g.Wait()
}

// rangeBufs recycles the buffers ranges are read into, and the buffers
// their objects are decompressed into to be verified, one pair per
// concurrent GET: fresh memory costs a page fault every 4 KiB, slow on
// virtual machines whose host backs guest memory lazily, and a clone
// reads all it downloads into these buffers. Range buffers are mapped in
// huge pages where the system allows. An object's bytes are staged
// (copied) before its range buffer goes back.
type rangeBufs struct {
	mu       sync.Mutex
	idle     [][2][]byte
	mappings [][]byte
}

func newRangeBufs(n int) *rangeBufs { return &rangeBufs{idle: make([][2][]byte, 0, n)} }

// get returns a range buffer of length n and a decompression buffer.
func (r *rangeBufs) get(n int64) (buf, scratch []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, p := range r.idle {
		if int64(cap(p[0])) >= n {
			r.idle = slices.Delete(r.idle, i, i+1)
			return p[0][:n], p[1]
		}
	}
	size := max(n, maxRange)
	if b, m := hugeheap.Map(int(size)); b != nil {
		r.mappings = append(r.mappings, m)
		return b[:n], nil
	}
	return make([]byte, n, size), nil
}

func (r *rangeBufs) put(buf, scratch []byte) {
	r.mu.Lock()
	r.idle = append(r.idle, [2][]byte{buf[:0], scratch[:0]})
	r.mu.Unlock()
}

// release unmaps the mapped buffers; none may be used after.
func (r *rangeBufs) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.mappings {
		hugeheap.Unmap(m)
	}
	r.mappings, r.idle = nil, nil
}

// rangeReader reads one span into buf (len s.n) as far as it is asked.
type rangeReader struct {
	io.ReadCloser
	f    *fetcher
	s    span
	buf  []byte
	have int64
}

// openRange starts the GET of one span.
func (f *fetcher) openRange(ctx context.Context, s span, buf []byte) (*rangeReader, error) {
	rc, err := f.be.GetRange(ctx, packKey(s.pack), s.off, s.n)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", f.be, packKey(s.pack), err)
	}
	f.reqs.Add(1)
	return &rangeReader{ReadCloser: rc, f: f, s: s, buf: buf}, nil
}

// through reads the span up to end.
func (r *rangeReader) through(end int64) error {
	if end <= r.have {
		return nil
	}
	n, err := io.ReadFull(r.ReadCloser, r.buf[r.have:end])
	r.have += int64(n)
	r.f.read.Add(int64(n))
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return fmt.Errorf("%s: %s is shorter than its index says: %w", r.f.be, packKey(r.s.pack), ErrIntegrity)
	}
	if err != nil {
		return fmt.Errorf("%s: %s: %w", r.f.be, packKey(r.s.pack), err)
	}
	return nil
}
