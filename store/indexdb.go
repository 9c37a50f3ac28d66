package store

// The badger database behind the index: its options, opening it (waiting
// for another process's lock, repairing a MANIFEST a failed fsync left
// behind), and compacting its level 0 at close.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// indexOptions are the badger options of the index in dir.
func indexOptions(dir string) badger.Options {
	return badger.DefaultOptions(dir).
		WithLogger(nil).
		// Writes are not synced one by one. Before a ref moves, the
		// pack journal is synced (journal.go: badger's Sync covers only
		// its active memtable); before a pack file is deleted, the
		// index (syncIndex). Entries of packs not yet journaled that a
		// power failure loses only make packs orphans, which gc removes.
		WithSyncWrites(false).
		// Each full memtable becomes a level-0 table, built and synced
		// through a mapping (a TLB shootdown a page), and every
		// level0Tables of them are compacted, all while a commit goes
		// on: 8 MiB keeps a commit of many files to a few tables, where
		// 1 MiB made dozens and compactions. Short commands flush a small
		// table whatever the size; the free-space reserve grows with it
		// (space.go).
		WithMemTableSize(memTableSize).
		WithNumMemtables(2).
		// Level-0 tables are compacted only when there are 8: a big
		// commit leaves several, and compacting two at the next open
		// made that command's close wait for it.
		WithNumLevelZeroTables(level0Tables).
		WithNumLevelZeroTablesStall(16).
		// Every open also creates a value log file (twice this size,
		// mapped), for values over the threshold: dx stores none (its
		// values are a few dozen bytes), so the smallest size allowed:
		// with this, against 64 MiB, short commands (a warm `dx log -n
		// 1`, a cold merge --into) open and close faster.
		WithValueLogFileSize(1 << 20).
		WithValueThreshold(1 << 10).
		WithBlockCacheSize(16 << 20).
		WithIndexCacheSize(16 << 20).
		WithNumCompactors(2).
		WithCompactL0OnClose(false).
		WithDetectConflicts(true).
		// Keys are random IDs and values small: compression saves little
		// and costs every lookup a block decode.
		WithCompression(options.None).
		// badger's expvar metrics cost every lookup a sync.Map update
		// (visible in a row merge's profile); dx reads none of them.
		WithMetricsEnabled(false)
}

// openIndex opens badger as opts.Access asks, and reports whether the
// store is to be read-only. A ReadOnly open falls back to a writable one
// when badger cannot open read-only: it must first replay the memtables
// of a writer that crashed (ErrTruncateNeeded), or create the index of a
// store never written (no MANIFEST). A writable open needs the index's
// reserve of free space.
func openIndex(ctx context.Context, bopts badger.Options, opts Options, space *spaceGuard) (*badger.DB, bool, error) {
	switch opts.Access {
	case ReadOnly:
		db, err := openBadger(ctx, bopts.WithReadOnly(true), opts.LockTimeout)
		if err == nil || errors.Is(err, ErrLocked) || ctx.Err() != nil {
			return db, true, err
		}
	case ReadCaching:
		if err := space.claim(0); errors.Is(err, ErrNoSpace) {
			return openIndex(ctx, bopts, Options{Access: ReadOnly, LockTimeout: opts.LockTimeout}, space)
		}
	}
	if err := space.claim(0); err != nil {
		return nil, false, fmt.Errorf("store open: %w", err)
	}
	db, err := openBadger(ctx, bopts, opts.LockTimeout)
	return db, opts.Access == ReadOnly, err
}

// openBadger opens badger, waiting up to timeout for another process to
// release its directory lock.
func openBadger(ctx context.Context, bopts badger.Options, timeout time.Duration) (*badger.DB, error) {
	deadline := time.Now().Add(timeout)
	repaired := false
	warmValueLogs(bopts.Dir)
	for {
		if err := dropEmptyValueLogs(bopts.Dir); err != nil {
			return nil, fmt.Errorf("store open index: %w", noSpace(err))
		}
		db, err := badger.Open(bopts)
		if err == nil {
			return db, nil
		}
		if strings.Contains(err.Error(), errMissingTable) && !repaired {
			// A failed fsync left the MANIFEST naming a removed table.
			if repaired, err = repairManifestLocked(bopts.Dir); err != nil {
				return nil, fmt.Errorf("store open index: %w", err)
			}
			if repaired {
				continue
			}
		}
		if !strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("store open index: %w", noSpace(err))
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("store open: waited %s: %w", timeout, ErrLocked)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// memTableSize is the size of the index's memtables (see indexOptions).
const memTableSize = 8 << 20

// level0Tables is the number of level-0 index tables at which badger
// compacts them in the background, and level0Compact the number at which
// Close does. badger's compactors start only after a random delay of up
// to a second, which a short command (branch, tag, merge) never reaches,
// and each such command's close turns its writes into one more level-0
// table. Left alone, level 0 grew by a table a command, and every open and
// close paid for each, so that short commands grew slower and slower.
// (Flatten compacts a lone level 0 only once it
// has more than level0Tables tables.)
const (
	level0Tables  = 8
	level0Compact = level0Tables + 1
)

// compactLevel0 compacts level 0 of the index into the level below when it
// has level0Compact tables or more, and that level is the only other one:
// then it rewrites only that level, at most a few MiB: badger keeps one
// level below 0 until the index passes 10 MiB (about 100,000 chunks), so
// the command that compacts takes only a little longer. Bigger indexes
// are compacted in the background by the commands that run long enough,
// those that write much.
func (s *Store) compactLevel0() error {
	var l0, below int
	for _, l := range s.db.Levels() {
		switch {
		case l.Level == 0:
			l0 = l.NumTables
		case l.NumTables > 0:
			below++
		}
	}
	if l0 < level0Compact || below > 1 || s.db.Opts().ReadOnly {
		return nil
	}
	if err := s.db.Flatten(1); err != nil {
		return fmt.Errorf("store close: compact index: %w", err)
	}
	return nil
}
