package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/pack"
)

// FsckReport is what Fsck found. Problems make the store invalid; Notes are
// harmless leftovers (for example packs of an interrupted commit) that gc
// removes.
type FsckReport struct {
	Packs     int `json:"packs"`
	Objects   int `json:"objects"`
	Reachable int `json:"reachable"`
	// Absent counts file nodes and chunks a partial store never fetched.
	Absent int `json:"absent,omitempty"`
	// Shallow counts the shallow commits: their parents, cut on the
	// remote the history came from, may be missing (not a problem).
	Shallow int `json:"shallow,omitempty"`
	// IndexDamaged: some problem lies in the object index (a location
	// file, an entry, a record of a missing pack), which RepairIndex
	// rebuilds from the packs.
	IndexDamaged bool     `json:"index_damaged,omitempty"`
	Problems     []string `json:"problems"`
	Notes        []string `json:"notes"`
}

// OK reports whether no problems were found.
func (r *FsckReport) OK() bool { return len(r.Problems) == 0 }

func (r *FsckReport) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// FsckOptions configure Fsck.
type FsckOptions struct {
	// Full hashes every pack whole and reads and verifies every reachable
	// chunk.
	Full bool
	// ExtraRoots are checked besides refs and HEAD.
	ExtraRoots []dag.ID
	// Referrers are derived data naming objects (the worktree's stat
	// cache): entries naming a missing object are noted.
	Referrers []Referrer
	// Progress, if set, starts a progress bar of a long step (label; its
	// total bytes, ≤ 0 if unknown): the bar's add and done.
	Progress func(label string, total int64) (add func(n int64), done func())
}

// Fsck checks the store: every pack's footer and checksum, that the index
// agrees with the packs, and that everything reachable from refs (and extra
// roots) exists and decodes.
func (s *Store) Fsck(ctx context.Context, o FsckOptions) (*FsckReport, error) {
	full := o.Full
	if err := s.Flush(ctx); err != nil {
		return nil, err
	}
	rep := &FsckReport{}
	recs, err := s.packRecords(ctx)
	if err != nil {
		return nil, err
	}
	files, tmps, err := s.packFiles()
	if err != nil {
		return nil, err
	}
	for _, t := range tmps {
		rep.Notes = append(rep.Notes, fmt.Sprintf("leftover temporary file %s (gc removes it)", t.path))
	}
	footers := map[dag.ID]map[dag.ID]pack.Entry{}
	add, done := o.bar(full, "checking packs", files)
	for _, id := range sortedIDs(files) {
		add(files[id])
		if _, ok := recs[id]; !ok {
			rep.Notes = append(rep.Notes, fmt.Sprintf("pack %s is not indexed (left by an interrupted write; gc removes it)", id.Short()))
			continue
		}
		rep.Packs++
		entries, _, err := s.checkPackFile(id, full)
		if err != nil {
			rep.problem("pack %s: %v", id.Short(), err)
			continue
		}
		m := make(map[dag.ID]pack.Entry, len(entries))
		for _, e := range entries {
			m[e.ID] = e
		}
		footers[id] = m
	}
	done()
	for id := range recs {
		if _, ok := files[id]; !ok {
			rep.problem("pack %s is indexed but its file is missing", id.Short())
			rep.IndexDamaged = true
		}
	}
	// Every index entry must match its pack's footer.
	if err := s.objs.verifyFiles(); err != nil {
		rep.problem("%v", err)
		rep.IndexDamaged = true
	}
	err = s.objs.each(func(id dag.ID, loc Location) error {
		rep.Objects++
		ft, ok := footers[loc.Pack]
		if !ok {
			if _, rec := recs[loc.Pack]; !rec {
				rep.problem("object %s: its pack %s is not recorded", id.Short(), loc.Pack.Short())
				rep.IndexDamaged = true
			}
			return nil
		}
		e, ok := ft[id]
		if !ok || e.Offset != loc.Offset || e.Stored != loc.Stored || e.Raw != loc.Raw || e.Kind != loc.Kind || e.Codec != loc.Codec {
			rep.problem("object %s: index disagrees with pack %s", id.Short(), loc.Pack.Short())
			rep.IndexDamaged = true
		}
		return nil
	})
	if err != nil {
		rep.problem("object index: %v", err)
		rep.IndexDamaged = true
	}
	roots, err := s.RefRoots(ctx, o.ExtraRoots...)
	if err != nil {
		return nil, fmt.Errorf("fsck: %w", err)
	}
	h, err := s.Head(ctx)
	if err != nil {
		rep.problem("HEAD: %v", err)
	} else if !h.Detached() {
		if err := ValidRefName(h.Ref); err != nil {
			rep.problem("HEAD: %v", err)
		}
	}
	add, done = o.bar(full, "verifying chunks", nil)
	defer done()
	err = s.Walk(ctx, roots, WalkOptions{OnMissing: func(id dag.ID, kind dag.Kind, err error) {
		if s.absentOK(kind, err) {
			rep.Absent++
			return
		}
		rep.problem("reachable %s %s: %v", kind, id.Short(), err)
	}}, func(id dag.ID, kind dag.Kind) error {
		rep.Reachable++
		if full && kind == dag.KindChunk {
			b, err := s.Get(ctx, kind, id)
			if err != nil {
				rep.problem("chunk %s: %v", id.Short(), err)
			}
			add(int64(len(b)))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fsck: %w", err)
	}
	sh, err := s.Shallow(ctx)
	if err != nil {
		return nil, fmt.Errorf("fsck: %w", err)
	}
	rep.Shallow = len(sh)
	// A referrer (the stat cache) must never name a missing object.
	for _, r := range o.Referrers {
		if err := s.noteMissingReferences(ctx, r, rep); err != nil {
			return nil, err
		}
	}
	sort.Strings(rep.Problems)
	return rep, nil
}

// bar starts o's progress bar of a step of a full check (total: the sum
// of sizes; nil: unknown), or one that shows nothing.
func (o FsckOptions) bar(full bool, label string, sizes map[dag.ID]int64) (add func(int64), done func()) {
	if !full || o.Progress == nil {
		return func(int64) {}, func() {}
	}
	total := int64(-1)
	if sizes != nil {
		total = 0
		for _, n := range sizes {
			total += n
		}
	}
	return o.Progress(label, total)
}

// noteMissingReferences notes r's entries that name a missing object.
func (s *Store) noteMissingReferences(ctx context.Context, r Referrer, rep *FsckReport) error {
	return r.Referenced(ctx, func(entry string, kind dag.Kind, id dag.ID) {
		if ok, err := s.Has(ctx, id); err != nil || !ok {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s names a missing %s (ignored; gc drops it)", r.Describe(entry), kind))
		}
	})
}

// absentOK reports whether a missing object is expected: file content a
// partial store did not fetch.
func (s *Store) absentOK(kind dag.Kind, err error) bool {
	return s.opts.Partial && (kind == dag.KindFile || kind == dag.KindChunk) && errors.Is(err, ErrNotFound)
}

// checkPackFile reads pack id's index (its entries) and size; full also
// checks its content against its name.
func (s *Store) checkPackFile(id dag.ID, full bool) ([]pack.Entry, int64, error) {
	f, err := os.Open(s.packPath(id))
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	entries, _, err := pack.ReadIndex(f, st.Size())
	if err != nil {
		return nil, 0, err
	}
	if full {
		got, err := pack.PackID(f)
		if err != nil {
			return nil, 0, err
		}
		if got != id {
			return nil, 0, fmt.Errorf("content hash is %s, not its name: %w", got.Short(), ErrCorrupt)
		}
	}
	return entries, st.Size(), nil
}

// leftover is a file in the packs or temporary directory that is not a
// pack: what an interrupted write leaves behind.
type leftover struct {
	path string // relative to the store directory
	size int64
}

// packFiles lists pack files on disk, with their sizes, and leftover
// temporary files.
func (s *Store) packFiles() (map[dag.ID]int64, []leftover, error) {
	out := map[dag.ID]int64{}
	ents, err := os.ReadDir(filepath.Join(s.dir, packsDir))
	if err != nil {
		return nil, nil, fmt.Errorf("list packs: %w", err)
	}
	var tmps []leftover
	for _, e := range ents {
		info, err := e.Info()
		if err != nil {
			return nil, nil, fmt.Errorf("list packs: %w", err)
		}
		name, ok := strings.CutSuffix(e.Name(), ".pack")
		id, err := dag.ParseID(name)
		if !ok || err != nil {
			tmps = append(tmps, leftover{filepath.Join(packsDir, e.Name()), info.Size()})
			continue
		}
		out[id] = info.Size()
	}
	tents, err := os.ReadDir(filepath.Join(s.dir, tmpDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("list temporary files: %w", err)
	}
	for _, e := range tents {
		info, err := e.Info()
		if err != nil {
			return nil, nil, fmt.Errorf("list temporary files: %w", err)
		}
		tmps = append(tmps, leftover{filepath.Join(tmpDir, e.Name()), info.Size()})
	}
	return out, tmps, nil
}

func sortedIDs[V any](m map[dag.ID]V) []dag.ID {
	ids := make([]dag.ID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].Compare(ids[j]) < 0 })
	return ids
}
