package store

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/dgraph-io/badger/v4"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/locfile"
)

// persistIndex writes the objects indexed in memory as a location file,
// lists it as the newest, and merges files as mergeTiers says.
func (s *Store) persistIndex() error {
	x := s.objs
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.nMem == 0 {
		return nil
	}
	lf, err := s.writeMemFile(x)
	if err != nil {
		return err
	}
	files, dups := listedFirst(lf, x.files)
	if err := s.db.Update(func(txn *badger.Txn) error { return setListed(txn, fileNames(files)) }); err != nil {
		_ = lf.f.Close()
		return fmt.Errorf("object index: %w", err)
	}
	closeAll(dups)
	x.files = files
	x.clearMem()
	return s.mergeTiers()
}

// PersistIndex writes the objects indexed in memory as a location file
// now, rather than when the store closes, if they are many (earlyPersist):
// a caller can then do it while other work goes on (a commit of 200,000
// files, while its stat cache is written). A few are left for the close,
// so that a process that commits often does not write a file each time.
func (s *Store) PersistIndex() error {
	if s.closed.Load() {
		return errors.New("store: persist index after close")
	}
	if s.db.Opts().ReadOnly || !s.objs.holds(earlyPersist) {
		return nil
	}
	return s.persistIndex()
}

// earlyPersist is how many entries in memory PersistIndex writes out.
const earlyPersist = 50_000

func allLive(dag.ID) bool { return true }

// closeObjectIndex writes what a writer indexed in memory (an error keeps
// the journal, so the next open indexes it again) and closes the files.
func (s *Store) closeObjectIndex() error {
	var err error
	if !s.db.Opts().ReadOnly {
		err = s.persistIndex()
	}
	s.objs.close()
	return err
}

// mergeTiers merges the newest files while the newest is at least half
// the size of the one before it, and all of them past mergeFiles files:
// a few files, each written about log(n) times. The caller holds x.mu.
func (s *Store) mergeTiers() error {
	x := s.objs
	for len(x.files) > 1 {
		k := 2
		switch {
		case len(x.files) > mergeFiles:
			k = len(x.files)
		case 2*x.files[0].f.Len() < x.files[1].f.Len():
			return nil
		}
		if err := s.replaceFiles(k, allLive); err != nil {
			return err
		}
	}
	return nil
}

// replaceFiles merges the k newest files into one, keeping the entries
// whose pack is live, and lists it in their place. The old files are
// removed once the list is durable. The caller holds x.mu.
func (s *Store) replaceFiles(k int, live func(dag.ID) bool) error {
	x := s.objs
	old := x.files[:k]
	in := make([]*locfile.File, k)
	for i, lf := range old {
		in[i] = lf.f
	}
	lf, err := s.writeLocFile(func(w *locfile.Writer) error { return locfile.Merge(w, in, live) })
	if err != nil {
		return err
	}
	files, dups := listedFirst(lf, x.files[k:])
	err = s.db.Update(func(txn *badger.Txn) error { return setListed(txn, fileNames(files)) })
	if err == nil {
		err = s.syncIndex()
	}
	if err != nil {
		_ = lf.f.Close()
		return fmt.Errorf("object index: %w", err)
	}
	closeAll(dups)
	x.files = files
	for _, o := range old {
		_ = o.f.Close()
		if !slices.Contains(fileNames(files), o.name) { // (a merge may give a file back unchanged)
			_ = os.Remove(filepath.Join(x.dir, o.name+locExt))
		}
	}
	return nil
}

// writeLocFile writes a location file with fill, durably, under its
// checksum's name, and opens it.
func (s *Store) writeLocFile(fill func(w *locfile.Writer) error) (*listedFile, error) {
	if err := os.MkdirAll(s.objs.dir, dirMode); err != nil {
		return nil, fmt.Errorf("object index: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Join(s.dir, tmpDir), "locs-*")
	if err != nil {
		return nil, fmt.Errorf("object index: %w", noSpace(err))
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	w, err := locfile.NewWriter(bw)
	if err == nil {
		err = fill(w)
	}
	if err == nil {
		err = w.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if err != nil {
		return nil, fmt.Errorf("object index: write: %w", noSpace(err))
	}
	return s.placeLocFile(tmp.Name(), w.Sum())
}

// writeMemFile writes the entries x holds in memory as a location file,
// as writeLocFile does; the file is laid out whole in memory and written
// past the page cache, as a pack is (through the page cache, copying 22
// MB for 400,000 entries cost more than the disk's writing them).
func (s *Store) writeMemFile(x *objectIndex) (*listedFile, error) {
	if err := os.MkdirAll(s.objs.dir, dirMode); err != nil {
		return nil, fmt.Errorf("object index: %w", err)
	}
	var buf *alignedBuf
	b, sum, err := x.encodeMem(func(n int) []byte {
		buf = newAlignedBuf((n + alignment - 1) &^ (alignment - 1))
		return buf.b
	})
	if err != nil {
		return nil, fmt.Errorf("object index: %w", err)
	}
	buf.b = b
	tmp, err := writeFileDirect(filepath.Join(s.dir, tmpDir), buf)
	if err != nil {
		return nil, fmt.Errorf("object index: %w", noSpace(err))
	}
	defer os.Remove(tmp) // (once renamed, nothing)
	return s.placeLocFile(tmp, sum)
}

// placeLocFile renames the durable temporary file tmp, a location file of
// checksum sum, into place, durably, and opens it.
func (s *Store) placeLocFile(tmp string, sum [32]byte) (*listedFile, error) {
	dir := s.objs.dir
	name := hex.EncodeToString(sum[:])
	path := filepath.Join(dir, name+locExt)
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("object index: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return nil, fmt.Errorf("object index: %w", err)
	}
	f, err := locfile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("object index: %w", err)
	}
	return &listedFile{name: name, f: f}, nil
}

func fileNames(files []*listedFile) []string {
	out := make([]string, len(files))
	for i, lf := range files {
		out[i] = lf.name
	}
	return out
}

// dropPacks removes the packs in drop (gc): the location files are merged
// into one without their entries, listed, and made durable; then their
// records go, durably; then their files. A crash at any point leaves a
// listed file that names only recorded packs, and records or files that
// the next gc removes.
func (s *Store) dropPacks(drop map[dag.ID]bool) error {
	s.endFresh() // the objects kept as indexed include these packs'
	if err := s.persistIndex(); err != nil {
		return err
	}
	x := s.objs
	x.mu.Lock()
	if len(x.files) > 0 {
		if err := s.replaceFiles(len(x.files), func(p dag.ID) bool { return !drop[p] }); err != nil {
			x.mu.Unlock()
			return err
		}
	}
	x.mu.Unlock()
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for id := range drop {
		if err := wb.Delete(packKey(id)); err != nil {
			return err
		}
	}
	if err := wb.Flush(); err != nil {
		return err
	}
	if err := s.syncIndex(); err != nil {
		return err
	}
	for id := range drop {
		s.closePack(id)
		if err := os.Remove(s.packPath(id)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// listedFirst is lf followed by files without another file of lf's name
// (the same entries: say, the journal's packs indexed again after the
// file that held them was written), which it returns apart, for the
// caller to close once the new list is recorded: a file is listed once.
func listedFirst(lf *listedFile, files []*listedFile) (out, dups []*listedFile) {
	out = []*listedFile{lf}
	for _, o := range files {
		if o.name == lf.name {
			dups = append(dups, o)
			continue
		}
		out = append(out, o)
	}
	return out, dups
}

func closeAll(files []*listedFile) {
	for _, lf := range files {
		_ = lf.f.Close()
	}
}

// rebuildObjectIndex indexes every recorded pack again from its footer
// and lists the result as the only location file: for an index whose
// listed files are missing or damaged past opening. Packs that do not
// read are left to fsck.
func (s *Store) rebuildObjectIndex(ctx context.Context) error {
	recs, err := s.packRecords(ctx)
	if err != nil {
		return err
	}
	return s.rebuildFromFooters(ctx, recs, &RepairReport{})
}
