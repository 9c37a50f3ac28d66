package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/dxdata/dx/dag"
)

// TestJournalIndexesLostPacksAgain loses the index entries of every pack
// a writer indexed, as a crash does (they are in memory until the store
// closes) and leaves the journal as a power loss would: the next open, a
// reader's, indexes the packs again from their footers.
func TestJournalIndexesLostPacksAgain(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), ".dx")
	if err := Init(dir); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, dir, Options{PackSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	data := randData(6, 1<<20)
	c := commitFile(t, s, "refs/heads/main", "a.bin", data, dag.ZeroID)

	// Every pack file is in the journal before the ref moved.
	ids, err := readJournal(filepath.Join(dir, journalFile))
	if err != nil {
		t.Fatal(err)
	}
	files, err := os.ReadDir(filepath.Join(dir, packsDir))
	if err != nil {
		t.Fatal(err)
	}
	var names, journaled []string
	for _, f := range files {
		names = append(names, f.Name())
	}
	for _, id := range ids {
		journaled = append(journaled, filepath.Base(s.packPath(id)))
	}
	slices.Sort(names)
	slices.Sort(journaled)
	if len(names) < 5 || !slices.Equal(names, journaled) {
		t.Fatalf("pack files %v, journal %v", names, journaled)
	}

	// Lose every entry of those packs (held in memory until the close),
	// and their records.
	loseIndexed(s)
	err = s.db.Update(func(txn *badger.Txn) error {
		for _, id := range ids {
			if err := txn.Delete(packKey(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	journal, err := os.ReadFile(filepath.Join(dir, journalFile))
	if err != nil {
		t.Fatal(err)
	}
	closeDropsJournal(t, s, dir, "a clean close left the journal")
	// Without the journal the commit is lost to the index.
	r, err := Open(ctx, dir, Options{Access: ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(ctx, dag.KindCommit, c); !errors.Is(err, ErrNotFound) {
		t.Fatalf("commit after losing its index entries: %v", err)
	}
	r.Close()

	// The journal as a power loss leaves it, with a torn last record;
	// its header as an older dx wrote it (a boot after the magic).
	if !bytes.Equal(journal[:journalHeader], journalHeaderRecord()) {
		t.Fatalf("journal header %q", journal[:journalHeader])
	}
	older := bytes.Clone(journal)
	older[len(journalMagic)] ^= 0xff
	torn := append(older, bytes.Repeat([]byte{0xff}, 7)...)
	if err := os.WriteFile(filepath.Join(dir, journalFile), torn, 0o644); err != nil {
		t.Fatal(err)
	}
	// An open stopped during the recovery leaves the journal for the next.
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Open(stopped, dir, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("open cancelled during its recovery: %v", err)
	}
	if !journalExists(dir) {
		t.Fatal("an unfinished recovery removed the journal")
	}
	r, err = Open(ctx, dir, Options{Access: ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	if !r.ReadOnly() {
		t.Fatal("a reader that recovered the index may write")
	}
	if _, err := r.Get(ctx, dag.KindCommit, c); err != nil {
		t.Fatalf("commit after recovery: %v", err)
	}
	if rep, err := r.Fsck(ctx, FsckOptions{Full: true}); err != nil || !rep.OK() {
		t.Fatalf("fsck after recovery: %v %+v", err, rep)
	}
	closeDropsJournal(t, r, dir, "the recovering reader's clean close left the journal")
	s, err = Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	commit, err := dag.LoadCommit(ctx, s, c)
	if err != nil {
		t.Fatal(err)
	}
	e, err := dag.LookupPath(ctx, s, commit.Tree, "a.bin")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, s, e.ID), data) {
		t.Fatal("content does not round trip after recovery")
	}
}

// TestJournalOnlyWhileWriting: a store opened and closed without writing
// packs makes no journal; a journal whose packs are gone is dropped at the
// next clean close.
func TestJournalOnlyWhileWriting(t *testing.T) {
	ctx := context.Background()
	s, dir := newStore(t)
	if _, _, err := s.Refs(ctx, "refs/"); err != nil {
		t.Fatal(err)
	}
	closeDropsJournal(t, s, dir, "a store that wrote nothing made a journal")
	gone := dag.Hash(dag.KindChunk, []byte("a pack collected since"))
	if err := os.WriteFile(filepath.Join(dir, journalFile), gone[:], 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	closeDropsJournal(t, s, dir, "the journal outlived a clean close")
}

// closeDropsJournal closes s, whose directory is dir, and fails the test
// (saying why) if its clean close leaves the journal.
func closeDropsJournal(t *testing.T, s *Store, dir, why string) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if journalExists(dir) {
		t.Fatal(why)
	}
}

// journalExists reports whether the store in dir has a journal: its last
// writer did not close.
func journalExists(dir string) bool {
	_, err := os.Lstat(filepath.Join(dir, journalFile))
	return err == nil
}

// TestJournalIndexedAgainAfterAKill: the journal a killed writer left is
// indexed again, though the system did not reboot (its entries in memory
// died with it); the next clean close of a writer removes it.
func TestJournalIndexedAgainAfterAKill(t *testing.T) {
	ctx := context.Background()
	s, dir := newStore(t)
	c := commitFile(t, s, "refs/heads/main", "a.bin", randData(7, 256<<10), dag.ZeroID)
	journal, err := os.ReadFile(filepath.Join(dir, journalFile))
	if err != nil {
		t.Fatal(err)
	}
	loseIndexed(s) // as a kill does
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, journalFile), journal, 0o644); err != nil {
		t.Fatal(err)
	}
	if !journalNeedsIndexing(dir) {
		t.Fatal("the journal of a killed writer is not indexed again")
	}
	s, err = Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Has(ctx, c); err != nil || !ok {
		t.Fatalf("the open did not index the journal's packs again: has %v, %v", ok, err)
	}
	closeDropsJournal(t, s, dir, "a writer's clean close left the journal")
	s, err = Open(ctx, dir, Options{Access: ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ok, err := s.Has(ctx, c); err != nil || !ok {
		t.Fatalf("after the recovering writer's close: has %v, %v", ok, err)
	}
}

// loseIndexed drops the entries s indexed in memory and not yet wrote out,
// as a crash does.
func loseIndexed(s *Store) {
	s.endFresh()
	s.objs.mu.Lock()
	s.objs.clearMem()
	s.objs.mu.Unlock()
}
