package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/pack"
)

// GCOptions configure GC.
type GCOptions struct {
	// DryRun reports what would be removed and changes nothing.
	DryRun bool
	// ExtraRoots are kept alive besides refs and HEAD (e.g. a merge in
	// progress).
	ExtraRoots []dag.ID
	// RepackBelow: a pack whose live fraction of stored bytes falls below
	// this is rewritten with only its live objects. Zero means 0.8.
	RepackBelow float64
	// Referrers are derived data naming objects (the worktree's stat
	// cache): their entries naming unreachable objects are dropped
	// before anything is deleted.
	Referrers []Referrer
	// Derived are the derived tables whose entries name objects: those
	// naming objects gc removes are dropped (see gcDerived).
	Derived []DerivedNames
}

// GCReport says what GC removed (or would remove).
type GCReport struct {
	Reachable   int `json:"reachable_objects"`
	Unreachable int `json:"unreachable_objects"`
	// FreedBytes is the size of the pack and leftover files removed, less
	// the size of the packs their live objects are rewritten into.
	FreedBytes     int64 `json:"freed_bytes"`
	PacksDeleted   int   `json:"packs_deleted"`
	PacksRewritten int   `json:"packs_rewritten"`
	OrphansRemoved int   `json:"orphan_files_removed"`
	// ReferrerDropped counts the referrers' entries dropped (stat cache
	// entries, for the worktree's).
	ReferrerDropped int `json:"stat_entries_dropped"`
	DerivedReport
	DryRun bool `json:"dry_run"`
}

// GC removes every object not reachable from refs, HEAD and the extra
// roots, and files left by interrupted writes. It is crash-safe: new packs
// are written and indexed before old ones are deleted, so an interrupted GC
// leaves a valid store and can simply be run again.
func (s *Store) GC(ctx context.Context, o GCOptions) (*GCReport, error) {
	if o.RepackBelow == 0 {
		o.RepackBelow = 0.8
	}
	if err := s.writable("gc"); err != nil && !o.DryRun {
		return nil, err
	}
	if err := s.Flush(ctx); err != nil {
		return nil, err
	}
	rep := &GCReport{DryRun: o.DryRun}
	roots, err := s.RefRoots(ctx, o.ExtraRoots...)
	if err != nil {
		return nil, err
	}
	live := map[dag.ID]struct{}{}
	var absent error
	wo := WalkOptions{Visited: live}
	if s.opts.Partial {
		// File content a partial store never fetched is expected to be
		// absent; anything else missing still stops the collection.
		wo.OnMissing = func(id dag.ID, kind dag.Kind, err error) {
			if !s.absentOK(kind, err) && absent == nil {
				absent = fmt.Errorf("%s %s: %w", kind, id.Short(), err)
			}
		}
	}
	err = s.Walk(ctx, roots, wo, func(dag.ID, dag.Kind) error { return nil })
	if err == nil {
		err = absent
	}
	if err != nil {
		return nil, fmt.Errorf("gc: mark: %w (refusing to collect from a store with missing objects; run dx fsck)", err)
	}
	rep.Reachable = len(live)

	// Drop the referrers' entries that name unreachable objects before
	// anything is deleted: a crash part way must not leave the stat cache
	// naming a missing file, which commit would trust.
	for _, r := range o.Referrers {
		n, err := s.dropReferences(ctx, r, live, o.DryRun)
		if err != nil {
			return nil, err
		}
		rep.ReferrerDropped += n
	}

	// What this process indexed is written out first: from here on, the
	// objects indexed in memory are the ones this gc writes.
	if !o.DryRun {
		if err := s.persistIndex(); err != nil {
			return nil, fmt.Errorf("gc: %w", err)
		}
	}

	// The sweep trusts every entry's pack: a damaged location file could
	// make a live object look dead, and its pack go.
	if err := s.objs.verifyFiles(); err != nil {
		return nil, fmt.Errorf("gc: %w (refusing to collect with a damaged object index; dx fsck --repair rebuilds it)", err)
	}

	// Sweep: group index entries by pack.
	type packUse struct {
		liveBytes, deadBytes int64
		dead                 []dag.ID
		live                 []pack.Entry
	}
	use := map[dag.ID]*packUse{}
	err = s.objs.each(func(id dag.ID, loc Location) error {
		u := use[loc.Pack]
		if u == nil {
			u = &packUse{}
			use[loc.Pack] = u
		}
		if _, ok := live[id]; ok {
			u.liveBytes += int64(loc.Stored)
			u.live = append(u.live, pack.Entry{ID: id, Kind: loc.Kind, Codec: loc.Codec, Offset: loc.Offset, Stored: loc.Stored, Raw: loc.Raw})
		} else {
			u.deadBytes += int64(loc.Stored)
			u.dead = append(u.dead, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("gc: sweep: %w", err)
	}
	recs, err := s.packRecords(ctx)
	if err != nil {
		return nil, err
	}
	files, tmps, err := s.packFiles()
	if err != nil {
		return nil, err
	}
	drop := map[dag.ID]bool{} // packs whose records and files go
	for _, packID := range sortedIDs(use) {
		u := use[packID]
		rep.Unreachable += len(u.dead)
		if len(u.dead) == 0 {
			continue
		}
		total := u.liveBytes + u.deadBytes
		if len(u.live) > 0 && float64(u.liveBytes) >= o.RepackBelow*float64(total) {
			continue // not worth rewriting yet; dead objects stay indexed
		}
		// Freed is what leaves the disk: the whole file, less the pack
		// its live objects are rewritten into.
		freed := files[packID]
		if len(u.live) == 0 {
			rep.PacksDeleted++
		} else {
			rep.PacksRewritten++
			freed -= pack.Size(u.live)
		}
		rep.FreedBytes += max(freed, 0)
		if o.DryRun {
			continue
		}
		if len(u.live) > 0 {
			if err := s.rewritePack(ctx, packID, recs[packID].Meta, u.live); err != nil {
				return nil, err
			}
		}
		drop[packID] = true
	}
	if !o.DryRun {
		if err := s.dropKeyRanges(live); err != nil {
			return nil, err
		}
	}
	// Packs recorded but holding no index entries.
	for id := range recs {
		if _, ok := use[id]; !ok {
			rep.PacksDeleted++
			rep.FreedBytes += files[id]
			drop[id] = true
		}
	}
	// A pack this gc wrote is kept, whatever the sweep found before: a
	// rewrite gives a pack the name of its content, which may be that of
	// a pack an interrupted gc left (a file without a record, or a record
	// without entries).
	written := s.objs.memPacks()
	for id := range written {
		delete(drop, id)
	}
	if !o.DryRun && len(drop) > 0 {
		if err := s.dropPacks(drop); err != nil {
			return nil, fmt.Errorf("gc: %w", err)
		}
	}
	// Files without records.
	for id, size := range files {
		if _, ok := recs[id]; !ok && !written[id] {
			rep.OrphansRemoved++
			rep.FreedBytes += size
			if !o.DryRun {
				os.Remove(s.packPath(id))
			}
		}
	}
	for _, t := range tmps {
		rep.OrphansRemoved++
		rep.FreedBytes += t.size
		if !o.DryRun {
			os.Remove(filepath.Join(s.dir, t.path))
		}
	}
	for _, dn := range o.Derived {
		d, err := s.gcDerived(ctx, dn, live, o.DryRun)
		if err != nil {
			return nil, fmt.Errorf("gc: derived data: %w", err)
		}
		rep.DerivedDropped += d.DerivedDropped
		rep.DerivedFreed += d.DerivedFreed
	}
	if !o.DryRun {
		// Each call rewrites one value-log file whose values are half or
		// more dead, as far as compactions have told badger (entries
		// dropped here count once compacted: by a later gc), until none
		// is left. An optimisation: an error ends it.
		for range maxValueLogGC {
			if s.db.RunValueLogGC(0.5) != nil {
				break
			}
		}
	}
	return rep, nil
}

// maxValueLogGC bounds the value-log files one gc rewrites.
const maxValueLogGC = 1000

// rewritePack copies the live objects of a pack into a new pack and moves
// their index entries to it.
func (s *Store) rewritePack(ctx context.Context, old dag.ID, meta bool, live []pack.Entry) error {
	f, release, err := s.packFile(old)
	if err != nil {
		return fmt.Errorf("gc: rewrite %s: %w", old.Short(), err)
	}
	defer release()
	// A packer of its own: the rewritten pack holds only these objects.
	p := &packer{store: s, meta: meta}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range live {
		stored, err := pack.ReadBlob(f, e)
		if err == nil {
			err = p.add(e.ID, e.Kind, e.Codec, stored, int(e.Raw))
		}
		if err != nil {
			p.discard()
			return fmt.Errorf("gc: rewrite %s: %w", old.Short(), err)
		}
	}
	s.queuePack(p.takePack())
	s.waitPacksFinished()
	return s.finishErr()
}

// dropReferences drops r's entries that name objects not in live, and
// returns how many it dropped (with dryRun, how many name objects not
// stored, which it would drop).
func (s *Store) dropReferences(ctx context.Context, r Referrer, live map[dag.ID]struct{}, dryRun bool) (int, error) {
	var drop []string
	err := r.Referenced(ctx, func(entry string, _ dag.Kind, id dag.ID) {
		if _, ok := live[id]; !ok {
			if has, _ := s.Has(ctx, id); !has || !dryRun {
				// An object that is no longer reachable may still be
				// indexed in a pack kept for its live neighbours; it is
				// safe either way to forget it.
				drop = append(drop, entry)
			}
		}
	})
	if err != nil {
		return 0, err
	}
	if !dryRun && len(drop) > 0 {
		if err := r.Forget(ctx, drop); err != nil {
			return 0, err
		}
	}
	return len(drop), nil
}
