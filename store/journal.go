package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/dxdata/dx/dag"
)

// The pack journal lists the packs indexed since the index was last whole
// and durable (a writer's clean close). Their entries are in memory until
// the object index writes them to a location file (objindex.go), and in
// badger's memtables, whose logs badger's Sync makes durable only for the
// active one. So the journal, not the index, is synced before a ref
// moves, and an open that finds it (its writer did not close) indexes the
// packs it lists again, from their footers.
const journalFile = "journal"

// The journal starts with a header record: journalMagic, then zeros (an
// older dx wrote there the boot it started in, when a journal of the same
// boot was left to badger's replay). Then come the packs' IDs.
const (
	journalMagic  = "dx pack journal1"
	journalHeader = 32
)

// journalHeaderRecord is the header of a journal started now.
func journalHeaderRecord() []byte {
	h := make([]byte, journalHeader)
	copy(h, journalMagic)
	return h
}

// packJournal appends to the journal file of a store open for writing.
type packJournal struct {
	path string
	mu   sync.Mutex
	f    *os.File
	// opened: the file was opened, its directory entry not yet synced
	// by this process; dirty: appended to since the last sync; kept: the
	// journal outlives this process whatever its close (its recovery did
	// not finish).
	opened, dirty, kept bool
}

func newPackJournal(dir string) *packJournal {
	return &packJournal{path: filepath.Join(dir, journalFile)}
}

// add records pack id, whose file is durable, before it is indexed.
func (j *packJournal) add(id dag.ID) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("store: pack journal: %w", noSpace(err))
		}
		// The directory entry is synced at the first sync, even of a
		// journal found at open (its writer may have died before).
		j.f, j.opened = f, true
		if fi, err := f.Stat(); err != nil || fi.Size() == 0 {
			if _, err := f.Write(journalHeaderRecord()); err != nil {
				return fmt.Errorf("store: pack journal: %w", noSpace(err))
			}
		}
	}
	if _, err := j.f.Write(id[:]); err != nil {
		return fmt.Errorf("store: pack journal: %w", noSpace(err))
	}
	j.dirty = true
	return nil
}

// sync makes the packs added so far durable in the journal.
func (j *packJournal) sync() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.dirty {
		return nil
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("store: sync pack journal: %w", noSpace(err))
	}
	if j.opened {
		if err := syncDir(filepath.Dir(j.path)); err != nil {
			return fmt.Errorf("store: sync pack journal: %w", err)
		}
		j.opened = false
	}
	j.dirty = false
	return nil
}

// close closes the journal file and, when the index is whole and durable
// (closed cleanly after writing), removes it.
func (j *packJournal) close(indexDurable bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f != nil {
		j.f.Close()
		j.f = nil
	}
	if indexDurable && !j.kept {
		os.Remove(j.path) // if the removal is lost, the next open indexes again
	}
}

// keep keeps the journal past this process's close (its recovery did not
// finish).
func (j *packJournal) keep() {
	j.mu.Lock()
	j.kept = true
	j.mu.Unlock()
}

// journalNeedsIndexing reports whether the journal in dir lists packs
// whose index entries may be lost: it exists (its writer did not close),
// whatever boot it was started in: entries kept in memory die with the
// process.
func journalNeedsIndexing(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, journalFile))
	return !errors.Is(err, fs.ErrNotExist)
}

// readJournal returns the pack IDs in the journal at path, after its
// header; a torn last record is left out.
func readJournal(path string) ([]dag.ID, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	if len(b) >= journalHeader && string(b[:len(journalMagic)]) == journalMagic {
		b = b[journalHeader:]
	}
	ids := make([]dag.ID, 0, len(b)/dag.IDSize)
	for ; len(b) >= dag.IDSize; b = b[dag.IDSize:] {
		ids = append(ids, dag.ID(b[:dag.IDSize]))
	}
	return ids, nil
}

// recoverJournal indexes again every pack the journal lists, from its
// footer. Packs gone (collected) or unreadable are left to fsck and gc;
// the journal stays until this writer closes cleanly.
func (s *Store) recoverJournal(ctx context.Context) error {
	ids, err := readJournal(s.journal.path)
	if err != nil {
		return fmt.Errorf("store open: pack journal: %w", err)
	}
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		entries, size, err := s.checkPackFile(id, false)
		if err != nil {
			continue
		}
		meta := len(entries) > 0 && entries[0].Kind.IsMeta()
		if err := s.writePackIndex(id, meta, entries, size); err != nil {
			return fmt.Errorf("store open: %w", err)
		}
	}
	return s.syncIndex()
}
