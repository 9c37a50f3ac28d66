package remote

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/locfile"
	"github.com/dxdata/dx/store/pack"
)

// The index cache's snapshot: the entries of most cached pack indexes
// merged into one location file (internal/locfile), sorted by object ID
// and searched in place, so that a load costs the indexes added since,
// not the remote's size (decoding every index into a map took a load
// time and memory in proportion to all the objects a remote holds). It
// is only a cache: built from indexes decoded strictly, replaced whole
// (rename), and dropped when it names a pack the remote no longer lists.

// snapName is the snapshot's file in the cache directory.
const snapName = "snapshot.loc"

// snapMin and snapShare say when a load writes a new snapshot: once the
// entries not in it number snapMin and one snapShare-th of those in it.
const (
	snapMin   = 4096
	snapShare = 8
)

// openSnapshot opens the cache's snapshot if every pack it covers has its
// index cached and listed on the remote (have); else it removes it and
// returns nil.
func openSnapshot(dir string, have map[dag.ID]bool) (*locfile.File, map[dag.ID]bool) {
	path := filepath.Join(dir, snapName)
	f, err := locfile.Open(path)
	if err != nil {
		os.Remove(path) // damaged, or none (then this does nothing)
		return nil, nil
	}
	covered := make(map[dag.ID]bool, len(f.Packs()))
	for _, p := range f.Packs() {
		if !have[p] {
			f.Close()
			os.Remove(path)
			return nil, nil
		}
		covered[p] = true
	}
	return f, covered
}

// snapshotDue reports whether the objects outside the snapshot are
// enough to write a new one. Objects it holds already do not count: a
// pack whose every object it locates elsewhere (condemned, repacked) is
// outside it, decoded at each load until the remote drops it, and
// writing the same snapshot again would not change that.
func (ix *Index) snapshotDue() bool {
	n := len(ix.objs)
	if n < snapMin || ix.snap == nil {
		return n >= snapMin
	}
	fresh := 0
	for id := range ix.objs {
		if _, found, _ := ix.snap.Find(id); !found {
			fresh++
		}
	}
	runtime.KeepAlive(ix)
	return fresh >= snapMin && fresh >= ix.snap.Len()/snapShare
}

// writeSnapshot writes the snapshot and the entries outside it, merged,
// as the cache's new snapshot. The index goes on with what it has; the
// next load uses the new file. An object in several packs keeps one
// location, in a pack not condemned where there is one.
func (ix *Index) writeSnapshot() error {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	defer runtime.KeepAlive(ix) // (its cleanup unmaps the snapshot)
	extra := make([]locfile.Entry, 0, len(ix.objs))
	for _, l := range ix.objs {
		extra = append(extra, locEntry(l))
	}
	slices.SortFunc(extra, func(a, b locfile.Entry) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	n := 0
	if ix.snap != nil {
		n = ix.snap.Len()
	}
	return writeSnapFile(ix.dir, func(w io.Writer) error {
		lw, err := locfile.NewWriter(w)
		if err != nil {
			return err
		}
		i, j := 0, 0
		for i < n || j < len(extra) {
			var e locfile.Entry
			if i == n {
				e, j = extra[j], j+1
			} else {
				se, err := ix.snap.At(i)
				if err != nil {
					return err
				}
				c := 1
				if j < len(extra) {
					c = bytes.Compare(extra[j].ID[:], se.ID[:])
				}
				switch {
				case c < 0:
					e, j = extra[j], j+1
				case c == 0:
					e = se
					if ix.Condemned(se.Pack) && !ix.Condemned(extra[j].Pack) {
						e = extra[j]
					}
					i, j = i+1, j+1
				default:
					e, i = se, i+1
				}
			}
			if err := lw.Add(e); err != nil {
				return err
			}
		}
		return lw.Close()
	})
}

// writeSnapFile writes a new snapshot with fill, synced before it takes
// the snapshot's name (a cache a push relies on must not come back
// damaged from a crash).
func writeSnapFile(dir string, fill func(io.Writer) error) error {
	f, err := os.CreateTemp(dir, "snapshot-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = fill(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, snapName))
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

func locEntry(l Loc) locfile.Entry {
	e := l.Entry
	return locfile.Entry{ID: e.ID, Pack: l.Pack, Kind: e.Kind, Codec: e.Codec, Offset: e.Offset, Stored: e.Stored, Raw: e.Raw}
}

func snapLoc(e locfile.Entry) Loc {
	return Loc{Pack: e.Pack, Entry: pack.Entry{ID: e.ID, Kind: e.Kind, Codec: e.Codec, Offset: e.Offset, Stored: e.Stored, Raw: e.Raw}}
}

// cachedEntries reads a pack's index from the cache (a pack the snapshot
// covers: its entries in offset order).
func (ix *Index) cachedEntries(packID dag.ID) ([]pack.Entry, error) {
	b, err := os.ReadFile(filepath.Join(ix.dir, packID.String()+".idx"))
	if err != nil {
		return nil, fmt.Errorf("remote index cache: %w", err)
	}
	return pack.DecodeIndex(b)
}
