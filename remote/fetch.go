package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// FetchResult counts what a fetch received.
type FetchResult struct {
	Objects   int   `json:"objects"`    // objects stored locally
	Chunks    int   `json:"chunks"`     // of which data chunks
	Bytes     int64 `json:"bytes"`      // stored bytes of those objects
	BytesRead int64 `json:"bytes_read"` // bytes downloaded (ranges may span a little more)
	Requests  int64 `json:"requests"`   // ranged GETs
}

// Fetch downloads every object reachable from roots that the local store
// lacks: metadata first, level by level, then the chunks with coalesced
// ranged GETs in parallel. Every object is decompressed and hashed before
// it is kept. Nothing becomes part of the local store until everything
// arrived and verified; on an integrity error the store is left as it
// was, and on an interruption only the verified chunks are kept (they
// name nothing; a retry need not download them again).
func Fetch(ctx context.Context, st *store.Store, be Backend, ix *Index, roots []dag.Link, o Options) (*FetchResult, error) {
	o = o.withDefaults()
	f := &fetcher{st: st, be: be, ix: ix, o: o, stage: st.NewStaging(), res: &FetchResult{}}
	if o.Ahead != nil {
		f.meta = map[dag.ID]metaObject{}
	}
	if err := f.metadata(ctx, roots); err != nil {
		f.stage.Abort()
		return nil, err
	}
	if o.Ahead != nil {
		f.sink = o.Ahead(ctx, fetchedMeta{objs: f.meta, st: st})
		f.meta = nil
	}
	if err := f.data(ctx); err != nil {
		if errors.Is(err, ErrIntegrity) {
			f.stage.Abort()
		} else {
			// Interrupted (network, server, Ctrl-C): keep the verified
			// chunks so that a retry does not download them again.
			_ = f.stage.CommitData(context.WithoutCancel(ctx))
		}
		return nil, err
	}
	if err := f.stage.Commit(ctx); err != nil {
		f.stage.Abort()
		return nil, err
	}
	if err := st.AddShallow(ctx, f.cut); err != nil {
		return nil, err
	}
	f.res.BytesRead = f.read.Load()
	f.res.Requests = f.reqs.Load()
	return f.res, nil
}

type fetcher struct {
	st     *store.Store
	be     Backend
	ix     *Index
	o      Options
	stage  *store.Staging
	res    *FetchResult
	mu     sync.Mutex
	chunks []dag.ID // named by the File nodes walked (data drops those the store has)
	read   atomic.Int64
	reqs   atomic.Int64
	behind int64 // bytes metadata spans reached back (reachBack)
	// shallow is the remote's shallow list, read at the first commit
	// missing from its index; cut the commits whose parents were missing
	// so (recorded as shallow in the local store).
	shallow *Shallow
	cut     []dag.ID
	// meta keeps the metadata objects fetched, decoded, for
	// Options.Ahead (nil: not kept).
	meta map[dag.ID]metaObject
	// sink, if set, is given each chunk downloaded (Options.Ahead).
	sink func(id dag.ID, raw []byte)
}

type metaObject struct {
	kind dag.Kind
	raw  []byte
}

// fetchedMeta reads the metadata objects a fetch has received, before
// they are in the store, and the store's.
type fetchedMeta struct {
	objs map[dag.ID]metaObject
	st   *store.Store
}

func (g fetchedMeta) Get(ctx context.Context, kind dag.Kind, id dag.ID) ([]byte, error) {
	if o, ok := g.objs[id]; ok && o.kind == kind {
		return o.raw, nil
	}
	return g.st.Get(ctx, kind, id)
}

// uncut drops from ws the parents of the remote's shallow commits that
// the remote no longer holds: its history is cut there. Any other
// missing object stays an error (locate).
func (f *fetcher) uncut(ctx context.Context, ws []want) ([]want, error) {
	out := ws[:0]
	for _, w := range ws {
		if w.l.Kind == dag.KindCommit && !w.by.IsZero() && !f.ix.Has(w.l.ID) {
			if f.shallow == nil {
				s, err := ReadShallow(ctx, f.be)
				if err != nil {
					return nil, err
				}
				f.shallow = &s
			}
			if f.shallow.IDs[w.by] {
				if !slices.Contains(f.cut, w.by) {
					f.cut = append(f.cut, w.by)
				}
				continue
			}
		}
		out = append(out, w)
	}
	return out, nil
}

// want is an object to fetch, who named it (for messages), and for a
// sparse fetch which part of it is wanted.
type want struct {
	l     dag.Link
	by    dag.ID
	loc   Loc
	class uint8
	path  string // of a tree, for classPartial
}

// What a sparse fetch wants below an object.
const (
	classAll     uint8 = iota // everything
	classPartial              // a directory above a sparse path: decide per entry
	classTrees                // directories only (outside the sparse paths)
)

// classify says what a fetch limited to Options.Paths wants of path p.
func (f *fetcher) classify(p string) uint8 {
	if len(f.o.Paths) == 0 {
		return classAll
	}
	for _, s := range f.o.Paths {
		if s == "" || p == s || strings.HasPrefix(p, s+"/") {
			return classAll
		}
	}
	for _, s := range f.o.Paths {
		if p == "" || strings.HasPrefix(s, p+"/") {
			return classPartial
		}
	}
	return classTrees
}

type seenKey struct {
	id    dag.ID
	class uint8
	path  string
}

// children lists what w's object names that the fetch wants, but the
// chunks of a File node, whose ids it appends to chunks: a big file's
// tens of thousands need neither a want each nor a class.
func (f *fetcher) children(w want, raw []byte, chunks *[]dag.ID) ([]want, error) {
	var out []want
	if w.l.Kind == dag.KindFile {
		n, err := dag.DecodeFileNode(raw)
		if err != nil {
			return nil, err
		}
		for _, c := range n.Children {
			out = append(out, want{l: dag.Link{ID: c.ID, Kind: dag.KindFile}, by: w.l.ID, class: classAll})
		}
		for _, c := range n.Chunks {
			*chunks = append(*chunks, c.ID)
		}
		return out, nil
	}
	if w.l.Kind != dag.KindTree || w.class == classAll {
		links, err := dag.Links(w.l.Kind, raw, true)
		if err != nil {
			return nil, err
		}
		for _, l := range links {
			c := want{l: l, by: w.l.ID, class: classAll}
			switch w.l.Kind {
			case dag.KindCommit:
				if l.Kind == dag.KindTree {
					c.class = f.classify("")
				}
			case dag.KindTree, dag.KindFile, dag.KindModel:
				c.class = classAll
			}
			out = append(out, c)
		}
		return out, nil
	}
	n, err := dag.DecodeTreeNode(raw)
	if err != nil {
		return nil, err
	}
	for _, c := range n.Children {
		out = append(out, want{l: dag.Link{ID: c.ID, Kind: dag.KindTree}, by: w.l.ID, class: w.class, path: w.path})
	}
	for _, e := range n.Entries {
		class, p := classTrees, ""
		if w.class == classPartial {
			p = e.Name
			if w.path != "" {
				p = w.path + "/" + e.Name
			}
			class = f.classify(p)
		}
		if e.Mode != dag.ModeDir && class != classAll {
			continue // file content outside the sparse paths
		}
		if class != classPartial {
			p = ""
		}
		out = append(out, want{l: dag.Link{ID: e.ID, Kind: e.Mode.ObjectKind()}, by: w.l.ID, class: class, path: p})
	}
	return out, nil
}

// metadata fetches the metadata objects reachable from roots (for a sparse
// fetch: every tree, and file nodes under the sparse paths), collecting
// the chunks they name. With Options.Complete it also walks through
// metadata the local store has (a sparse store may lack what they name).
func (f *fetcher) metadata(ctx context.Context, roots []dag.Link) error {
	seen := map[seenKey]bool{}
	visit := func(w want) bool {
		if seen[seenKey{id: w.l.ID, class: classAll}] {
			return false
		}
		k := seenKey{id: w.l.ID, class: w.class, path: w.path}
		if seen[k] {
			return false
		}
		seen[k] = true
		return true
	}
	got := map[dag.ID]store.Stored{} // verified, fetched ahead in a range
	gotRaw := map[dag.ID][]byte{}
	raws := map[dag.ID][]byte{} // trees fetched, for expanding again in another class
	staged := map[dag.ID]bool{}
	var frontier []want
	var chunks []dag.ID // named by the File nodes walked
	for _, r := range roots {
		// A commit's class does not matter (its tree is classified);
		// classAll keeps one visit per commit.
		w := want{l: r, class: classAll}
		if visit(w) {
			frontier = append(frontier, w)
		}
	}
	for len(frontier) > 0 {
		local, remote, err := f.split(ctx, frontier, raws)
		if err != nil {
			return err
		}
		if remote, err = f.uncut(ctx, remote); err != nil {
			return err
		}
		// Download what was not fetched ahead.
		var need []want
		for _, w := range remote {
			if _, ok := got[w.l.ID]; !ok {
				need = append(need, w)
			}
		}
		if err := f.locate(need); err != nil {
			return err
		}
		var mu sync.Mutex
		err = f.download(ctx, need, metaGap, true, func(o store.Stored, raw []byte, _ bool) error {
			if !o.Kind.IsMeta() {
				return nil
			}
			mu.Lock()
			got[o.ID], gotRaw[o.ID] = o, raw
			mu.Unlock()
			return nil
		})
		if err != nil {
			return err
		}
		var next []want
		expand := func(w want, raw []byte) error {
			cs, err := f.children(w, raw, &chunks)
			if err != nil {
				return fmt.Errorf("%s: object %s: %w", f.be, w.l.ID.Short(), err)
			}
			for _, c := range cs {
				if visit(c) {
					next = append(next, c)
				}
			}
			return nil
		}
		for _, w := range remote {
			if raw, ok := raws[w.l.ID]; ok && staged[w.l.ID] {
				if err := expand(w, raw); err != nil {
					return err
				}
				continue
			}
			o, ok := got[w.l.ID]
			if !ok || o.Kind != w.l.Kind {
				return fmt.Errorf("%s: object %s (a %s named by %s) did not arrive: %w", f.be, w.l.ID.Short(), w.l.Kind, w.by.Short(), ErrIntegrity)
			}
			raw := gotRaw[o.ID]
			if f.meta != nil {
				f.meta[o.ID] = metaObject{kind: o.Kind, raw: raw}
			}
			if !staged[o.ID] {
				if err := f.stage.Add(o); err != nil {
					return err
				}
				staged[o.ID] = true
				f.res.Objects++
				f.res.Bytes += int64(len(o.Stored))
			}
			if o.Kind == dag.KindTree && len(f.o.Paths) > 0 {
				raws[o.ID] = raw
			}
			delete(got, o.ID)
			delete(gotRaw, o.ID)
			if err := expand(w, raw); err != nil {
				return err
			}
		}
		for _, lw := range local {
			if err := expand(lw.w, lw.raw); err != nil {
				return err
			}
		}
		frontier = append(frontier[:0], next...)
	}
	f.chunks = chunks
	return nil
}

type localObj struct {
	w   want
	raw []byte
}

// split separates the frontier into objects the local store has and those
// to download. Without Options.Complete, local objects are dropped: the
// store holds everything they name. With it, they are read to be walked
// through.
func (f *fetcher) split(ctx context.Context, ws []want, fetched map[dag.ID][]byte) ([]localObj, []want, error) {
	var ask []want
	var remote []want
	for _, w := range ws {
		if _, ok := fetched[w.l.ID]; ok {
			remote = append(remote, w) // fetched by this run: expand again
		} else {
			ask = append(ask, w)
		}
	}
	ids := make([]dag.ID, len(ask))
	for i, w := range ask {
		ids[i] = w.l.ID
	}
	has, err := f.st.HasMany(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	var local []localObj
	for i, w := range ask {
		switch {
		case !has[i]:
			remote = append(remote, w)
		case f.o.Complete:
			raw, err := f.st.Get(ctx, w.l.Kind, w.l.ID)
			if err != nil {
				return nil, nil, err
			}
			local = append(local, localObj{w, raw})
		}
	}
	return local, remote, nil
}

// notLocal drops the chunks the local store has.
func (f *fetcher) notLocal(ctx context.Context, ids []dag.ID) ([]dag.ID, error) {
	has, err := f.st.HasMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := ids[:0]
	for i, id := range ids {
		if !has[i] {
			out = append(out, id)
		}
	}
	return out, nil
}

// locate fills in where the remote holds each object.
func (f *fetcher) locate(ws []want) error {
	for i := range ws {
		loc, ok := f.ix.Lookup(ws[i].l.ID)
		if !ok {
			w := ws[i]
			by := ""
			if !w.by.IsZero() {
				by = " named by " + w.by.Short()
			}
			return fmt.Errorf("%s: the remote does not hold %s %s%s (a damaged remote): %w", f.be, w.l.Kind, w.l.ID.Short(), by, ErrIntegrity)
		}
		ws[i].loc = loc
	}
	return nil
}

// data fetches the chunks the metadata named that the store lacks.
func (f *fetcher) data(ctx context.Context) error {
	// The chunks named, once each, in order: the lookups of those the
	// store has then walk its index from start to end.
	slices.SortFunc(f.chunks, func(a, b dag.ID) int { return bytes.Compare(a[:], b[:]) })
	chunks, err := f.notLocal(ctx, slices.Compact(f.chunks))
	if err != nil {
		return err
	}
	ws := make([]want, len(chunks))
	for i, id := range chunks {
		ws[i] = want{l: dag.Link{ID: id, Kind: dag.KindChunk}}
	}
	if err := f.locate(ws); err != nil {
		return err
	}
	var total int64
	for _, w := range ws {
		total += int64(w.loc.Entry.Stored)
	}
	bar := f.o.Progress.Start("fetch", total, true)
	defer bar.Done()
	var mu sync.Mutex
	return f.download(ctx, ws, dataGap, false, func(o store.Stored, raw []byte, needed bool) error {
		if !needed {
			return nil
		}
		bar.Add(int64(len(o.Stored)))
		if err := f.stage.Add(o); err != nil {
			return err
		}
		if f.sink != nil {
			f.sink(o.ID, raw)
		}
		mu.Lock()
		f.res.Objects++
		f.res.Chunks++
		f.res.Bytes += int64(len(o.Stored))
		mu.Unlock()
		return nil
	})
}
