package remote

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/locfile"
	"github.com/dxdata/dx/store"
	"github.com/dxdata/dx/store/pack"
)

// Keys of the remote layout (see DESIGN.md, "Remotes").
const (
	packsPrefix  = "packs/"
	indexPrefix  = "index/"
	refsPrefix   = "refs/"
	eventsPrefix = "events/"
	formatKey    = "FORMAT"
	formatValue  = "dx remote v1\n"
)

func packKey(id dag.ID) string  { return packsPrefix + id.String() + ".pack" }
func indexKey(id dag.ID) string { return indexPrefix + id.String() + ".idx" }

// Loc says where on the remote an object is.
type Loc struct {
	Pack  dag.ID
	Entry pack.Entry
}

// Index is what a remote holds: the union of its pack indexes. The
// indexes are immutable, so each is downloaded once and cached in a local
// directory; the cache is reconciled with the remote's listing on every
// Load, so an index the remote no longer has is never trusted.
//
// Invariant kept by Push: an object in the index has every object it names
// in the index too (data packs are indexed before metadata packs, and
// metadata packs children first). A walk may therefore stop at any object
// the remote has.
type Index struct {
	dir string
	mu  sync.RWMutex
	// snap is the cache's snapshot (see indexsnap.go), if any, and the
	// packs it covers; objs and packs hold the packs outside it, and
	// packs the entries of those in it read since.
	snap      *locfile.File
	snapPacks map[dag.ID]bool
	objs      map[dag.ID]Loc
	packs     map[dag.ID][]pack.Entry // pack → its entries by offset
	// win is how long a writer may rely on it, and the packs a
	// collector condemned (see GCState); nil for a reader's.
	win *writeWindow
}

// LoadIndex lists the remote's indexes, downloads the ones not cached in
// dir (created if missing), drops cached ones the remote no longer has,
// and returns the union, for reading (fetch, a collector's marking).
func LoadIndex(ctx context.Context, be Backend, dir string) (*Index, error) {
	return loadIndex(ctx, be, dir, nil)
}

// LoadIndexToWrite is LoadIndex for a writer (push, replicate to be): it
// reads the collector's state first, so that an index listed after it
// holds no pack the collector condemned before and removed since, and
// the writer neither reuses condemned packs nor relies on the index for
// longer than the grace (see package remote/gc).
func LoadIndexToWrite(ctx context.Context, be Backend, dir string) (*Index, error) {
	win := &writeWindow{start: time.Now(), relied: map[dag.ID]bool{}}
	gs, _, err := ReadGCState(ctx, be)
	if err != nil {
		return nil, err
	}
	win.grace, win.round, win.hidden = gs.Grace, gs.Round, make(map[dag.ID]bool, len(gs.Condemned))
	for _, id := range gs.Condemned {
		win.hidden[id] = true
	}
	return loadIndex(ctx, be, dir, win)
}

func loadIndex(ctx context.Context, be Backend, dir string, win *writeWindow) (*Index, error) {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, fmt.Errorf("remote index cache: %w", err)
	}
	listed, err := be.List(ctx, indexPrefix)
	if err != nil {
		return nil, err
	}
	want := map[dag.ID]bool{}
	for _, o := range listed {
		name, ok := strings.CutSuffix(strings.TrimPrefix(o.Key, indexPrefix), ".idx")
		id, err := dag.ParseID(name)
		if !ok || err != nil {
			continue // not ours; ignore
		}
		want[id] = true
	}
	cached, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("remote index cache: %w", err)
	}
	have := map[dag.ID]bool{}
	for _, e := range cached {
		if e.Name() == snapName || isFreshTemp(e) {
			continue
		}
		name, ok := strings.CutSuffix(e.Name(), ".idx")
		id, err := dag.ParseID(name)
		if !ok || err != nil || !want[id] {
			os.Remove(filepath.Join(dir, e.Name()))
			continue
		}
		have[id] = true
	}
	snap, covered := openSnapshot(dir, have)
	// The indexes outside the snapshot: read and decode on several
	// goroutines, then fill the maps on one, sized once (growing them,
	// under a lock, cost most of a load).
	var ids []dag.ID
	for id := range want {
		if !covered[id] {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, dag.ID.Compare)
	loaded := make([][]pack.Entry, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, id := range ids {
		g.Go(func() error {
			var b []byte
			var err error
			if have[id] {
				b, err = os.ReadFile(filepath.Join(dir, id.String()+".idx"))
			} else {
				b, _, err = be.Get(gctx, indexKey(id), pack.MaxIndexSize)
				if err != nil {
					return fmt.Errorf("%s: %s: %w", be, indexKey(id), err)
				}
			}
			if err != nil {
				return fmt.Errorf("remote index cache: %w", err)
			}
			entries, err := pack.DecodeIndex(b)
			if err != nil {
				os.Remove(filepath.Join(dir, id.String()+".idx"))
				return fmt.Errorf("%s: %s: %v: %w", be, indexKey(id), err, ErrIntegrity)
			}
			if !have[id] {
				if err := store.WriteFileAtomic(filepath.Join(dir, id.String()+".idx"), b); err != nil {
					return fmt.Errorf("remote index cache: %w", err)
				}
			}
			loaded[i] = entries
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	n := 0
	for _, entries := range loaded {
		n += len(entries)
	}
	ix := &Index{dir: dir, snap: snap, snapPacks: covered, objs: make(map[dag.ID]Loc, n), packs: make(map[dag.ID][]pack.Entry, len(ids)), win: win}
	if snap != nil {
		// The mapping lives as long as the index.
		runtime.AddCleanup(ix, func(f *locfile.File) { f.Close() }, snap)
	}
	for i, id := range ids {
		ix.add(id, loaded[i])
	}
	if ix.snapshotDue() {
		_ = ix.writeSnapshot() // a cache: the next load tries again
	}
	return ix, nil
}

// isFreshTemp reports whether e is a snapshot's temporary file that may
// still be being written (one older than an hour a crashed writer left).
func isFreshTemp(e os.DirEntry) bool {
	if !strings.HasPrefix(e.Name(), "snapshot-") {
		return false
	}
	info, err := e.Info()
	return err != nil || time.Since(info.ModTime()) < time.Hour
}

func (ix *Index) add(packID dag.ID, entries []pack.Entry) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, e := range entries {
		// An object in several packs is located in one not condemned.
		if l, ok := ix.objs[e.ID]; !ok || ix.Condemned(l.Pack) && !ix.Condemned(packID) {
			ix.objs[e.ID] = Loc{Pack: packID, Entry: e}
		}
	}
	ix.packs[packID] = entries
}

// packEntries returns a pack's entries in offset order.
func (ix *Index) packEntries(packID dag.ID) []pack.Entry {
	ix.mu.RLock()
	es, ok := ix.packs[packID]
	ix.mu.RUnlock()
	if ok || !ix.snapPacks[packID] {
		return es
	}
	es, err := ix.cachedEntries(packID)
	if err != nil {
		return nil
	}
	ix.mu.Lock()
	ix.packs[packID] = es
	ix.mu.Unlock()
	return es
}

// record adds a pack this process uploaded (with its index) to the index
// and its cache.
func (ix *Index) record(packID dag.ID, footer []byte, entries []pack.Entry) error {
	if err := store.WriteFileAtomic(filepath.Join(ix.dir, packID.String()+".idx"), footer); err != nil {
		return fmt.Errorf("remote index cache: %w", err)
	}
	ix.add(packID, entries)
	return nil
}

// Packs lists the packs the index covers, in no particular order.
func (ix *Index) Packs() []dag.ID {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make([]dag.ID, 0, len(ix.packs)+len(ix.snapPacks))
	for id := range ix.snapPacks {
		out = append(out, id)
	}
	for id := range ix.packs {
		if !ix.snapPacks[id] {
			out = append(out, id)
		}
	}
	return out
}

// PackEntries returns a pack's entries in offset order (nil for a pack the
// remote does not index). Do not modify.
func (ix *Index) PackEntries(packID dag.ID) []pack.Entry { return ix.packEntries(packID) }

// Record adds a pack that now is on the remote, with its index (footer),
// to the index and its cache.
func (ix *Index) Record(packID dag.ID, footer []byte, entries []pack.Entry) error {
	return ix.record(packID, footer, entries)
}

// Has reports whether the remote holds the object.
func (ix *Index) Has(id dag.ID) bool {
	_, ok := ix.Lookup(id)
	return ok
}

// Reusable reports whether a writer may rely on the remote holding the
// object (and all it names): it is in a pack no collector condemned.
func (ix *Index) Reusable(id dag.ID) bool {
	l, ok := ix.Lookup(id)
	if !ok || ix.Condemned(l.Pack) {
		return false
	}
	if ix.win != nil {
		ix.win.rely(l.Pack)
	}
	return true
}

// Condemned reports whether a collector condemned the pack.
func (ix *Index) Condemned(packID dag.ID) bool { return ix.win != nil && ix.win.hidden[packID] }

// CheckWindow fails with ErrGCWindow once a writer that loaded the index
// may no longer rely on it: before each index (naming the pack it
// indexes, which the writer relies on from then) and ref it writes.
func (ix *Index) CheckWindow(ctx context.Context, be Backend, packs ...dag.ID) error {
	if ix.win == nil {
		return errors.New("remote: an index loaded for reading used to write (LoadIndexToWrite)")
	}
	for _, p := range packs {
		ix.win.rely(p)
	}
	return ix.win.check(ctx, be)
}

// Lookup returns where the remote holds the object: in a pack not
// condemned where there is one.
func (ix *Index) Lookup(id dag.ID) (Loc, bool) {
	ix.mu.RLock()
	l, ok := ix.objs[id]
	ix.mu.RUnlock()
	if ok && !ix.Condemned(l.Pack) || ix.snap == nil {
		return l, ok
	}
	// An unreadable entry is not found: a writer then sends the object
	// again, a reader fails as for any object the remote lacks.
	e, found, err := ix.snap.Find(id)
	runtime.KeepAlive(ix) // (its cleanup unmaps the snapshot)
	if err == nil && found && (!ok || !ix.Condemned(e.Pack)) {
		return snapLoc(e), true
	}
	return l, ok
}
