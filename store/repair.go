package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/dgraph-io/badger/v4"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/locfile"
)

// RepairReport says what RepairIndex did.
type RepairReport struct {
	// Packs is how many packs were indexed again from their footers.
	Packs int `json:"packs"`
	// Objects is how many objects the rebuilt index holds.
	Objects int `json:"objects"`
	// DamagedFiles are the location files that failed their checksum;
	// their entries were not trusted.
	DamagedFiles int `json:"damaged_files"`
	// UnreadableFooters are the recorded packs whose footer does not
	// read: their entries come from the location files that verify, if
	// any holds them.
	UnreadableFooters []dag.ID `json:"unreadable_footers,omitempty"`
	// MissingPacks are the recorded packs whose file is gone: their
	// records and entries are dropped, so that the objects they held
	// count as missing and a fetch can bring them back.
	MissingPacks []dag.ID `json:"missing_packs,omitempty"`
}

// RepairIndex rebuilds the object index from the packs: each recorded
// pack's entries as its footer lists them, or, for a pack whose footer
// does not read, as the location files that pass their checksum list them.
// The result replaces every location file; then the records of packs whose
// file is missing are dropped. Data in packs is never touched. A crash at
// any point leaves the old index or the new one listed, never a mix, and
// the repair can run again. It needs a writable store.
func (s *Store) RepairIndex(ctx context.Context) (*RepairReport, error) {
	if s.db.Opts().ReadOnly {
		return nil, errors.New("store: repair needs the store opened for writing")
	}
	if err := s.Flush(ctx); err != nil {
		return nil, err
	}
	s.endFresh() // (the markers of indexed objects go with the entries replaced)
	if err := s.persistIndex(); err != nil {
		return nil, err
	}
	recs, err := s.packRecords(ctx)
	if err != nil {
		return nil, err
	}
	rep := &RepairReport{}
	if err := s.rebuildFromFooters(ctx, recs, rep); err != nil {
		return nil, err
	}
	if err := s.dropMissingRecords(rep.MissingPacks); err != nil {
		return nil, err
	}
	return rep, nil
}

// rebuildFromFooters writes the index RepairIndex rebuilds and lists it
// alone, filling in rep.
func (s *Store) rebuildFromFooters(ctx context.Context, recs map[dag.ID]packRecord, rep *RepairReport) error {
	x := s.objs
	x.mu.Lock()
	defer x.mu.Unlock()
	var trusted []*locfile.File
	for _, lf := range x.files {
		if lf.f.Verify() != nil {
			rep.DamagedFiles++
			continue
		}
		trusted = append(trusted, lf.f)
	}
	// Footers are read in batches of memMax entries, each written as a
	// file of its own (not listed: the next writer's open removes such
	// files if this one dies), and all are merged into one at the end.
	// A batch is an object index's memory: an object in two packs (a gc
	// killed between its rewrite and its drop) is kept once.
	var parts []*listedFile
	defer func() {
		for _, p := range parts {
			_ = p.f.Close()
			if !slices.Contains(fileNames(x.files), p.name) { // (a merge of one part gives it back)
				_ = os.Remove(filepath.Join(x.dir, p.name+locExt))
			}
		}
	}()
	batch := &objectIndex{mem: map[dag.ID]Location{}}
	spill := func() error {
		if batch.nMem == 0 {
			return nil
		}
		lf, err := s.writeMemFile(batch)
		if err != nil {
			return err
		}
		parts = append(parts, lf)
		batch.clearMem()
		return nil
	}
	unreadable := map[dag.ID]bool{}
	for _, id := range sortedIDs(recs) {
		if err := ctx.Err(); err != nil {
			return err
		}
		entries, _, err := s.checkPackFile(id, false)
		switch {
		case errors.Is(err, os.ErrNotExist):
			rep.MissingPacks = append(rep.MissingPacks, id)
			continue
		case err != nil:
			unreadable[id] = true
			rep.UnreadableFooters = append(rep.UnreadableFooters, id)
			continue
		}
		rep.Packs++
		if batch.add(id, entries) {
			if err := spill(); err != nil {
				return err
			}
		}
	}
	if err := spill(); err != nil {
		return err
	}
	// The packs whose footer does not read keep what the trusted files
	// say of them, behind what the footers say.
	if len(unreadable) > 0 && len(trusted) > 0 {
		lf, err := s.writeLocFile(func(w *locfile.Writer) error {
			return locfile.Merge(w, trusted, func(p dag.ID) bool { return unreadable[p] })
		})
		if err != nil {
			return err
		}
		parts = append(parts, lf)
	}
	in := make([]*locfile.File, len(parts))
	for i, p := range parts {
		in[i] = p.f
	}
	lf, err := s.writeLocFile(func(w *locfile.Writer) error { return locfile.Merge(w, in, allLive) })
	if err != nil {
		return err
	}
	rep.Objects = lf.f.Len()
	return s.listOnly(lf)
}

// listOnly lists lf as the only location file (none if it is empty),
// durably, then closes and removes the files it replaces. The caller
// holds x.mu.
func (s *Store) listOnly(lf *listedFile) error {
	x := s.objs
	files := []*listedFile{lf}
	if lf.f.Len() == 0 {
		files = nil
	}
	err := s.db.Update(func(txn *badger.Txn) error { return setListed(txn, fileNames(files)) })
	if err == nil {
		err = s.syncIndex()
	}
	if err != nil {
		_ = lf.f.Close()
		return fmt.Errorf("object index: %w", err)
	}
	old := x.files
	x.files = files
	for _, o := range old {
		_ = o.f.Close()
		if o.name != lf.name {
			_ = os.Remove(filepath.Join(x.dir, o.name+locExt))
		}
	}
	if files == nil {
		_ = lf.f.Close()
		_ = os.Remove(filepath.Join(x.dir, lf.name+locExt))
	}
	return nil
}

// dropMissingRecords deletes the records of packs ids, durably.
func (s *Store) dropMissingRecords(ids []dag.ID) error {
	if len(ids) == 0 {
		return nil
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, id := range ids {
		if err := wb.Delete(packKey(id)); err != nil {
			return err
		}
		s.closePack(id)
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("store: drop records: %w", err)
	}
	return s.syncIndex()
}
