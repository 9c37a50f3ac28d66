package store

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"

	"github.com/dgraph-io/badger/v4"
)

// spaceGuard keeps the index's reserve of free space (see doc.go): badger
// writes memtables, the value log and tables through mappings of files it
// creates sparse, and a write into such a mapping on a full file system
// kills the process (SIGBUS) instead of failing. dx cannot hook those
// writes, so its own writes stop, with ErrNoSpace, before they would eat
// into the reserve. It is safe for concurrent use.
type spaceGuard struct {
	dir   string // a directory on the store's file system
	bopts badger.Options

	mu      sync.Mutex
	reserve int64 // computed at the first claim; 0 until then
	// slack is the free space beyond the reserve that the last statfs
	// found (measured), less what was claimed since. Claims are checked
	// against it without a system call while it stays above half of
	// measured.
	slack, measured int64
	known           bool
}

func newSpaceGuard(dir string, bopts badger.Options) *spaceGuard {
	return &spaceGuard{dir: dir, bopts: bopts}
}

// reserveMargin covers what the reserve's other terms leave out: the
// manifest, the discard statistics file, the lock file and the
// directories' own blocks.
const reserveMargin = 1 << 20

// indexReserve is the free space badger may need in one command: a memtable
// file (mapped, twice the memtable size) for the active memtable and each
// one waiting to be flushed, a value log file (mapped, twice its size), a
// level-0 table of one memtable, and a compaction that rewrites the whole
// index (as big as its directory now).
func indexReserve(o badger.Options, indexBytes int64) int64 {
	memtables := int64(o.NumMemtables+1) * 2 * o.MemTableSize
	return memtables + 2*o.ValueLogFileSize + o.MemTableSize + indexBytes + reserveMargin
}

// claim fails with ErrNoSpace if writing n bytes would leave less than the
// reserve free. Where the file system cannot say how much is free, it
// allows every write (which then fails the ordinary way).
func (g *spaceGuard) claim(n int64) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.known && g.slack-n >= g.measured/2 {
		g.slack -= n
		return nil
	}
	if g.reserve == 0 {
		used, err := allocatedBytes(g.bopts.Dir)
		if err != nil {
			return nil
		}
		g.reserve = indexReserve(g.bopts, used)
	}
	free, err := freeBytes(g.dir)
	if err != nil {
		return nil
	}
	g.measured, g.slack, g.known = free-g.reserve, free-g.reserve, true
	if n > g.slack {
		return fmt.Errorf("%s free, %s wanted and %s kept for the index: %w",
			mib(free), mib(n), mib(g.reserve), ErrNoSpace)
	}
	g.slack -= n
	return nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// noSpaceError is a write's failure for want of space: its message, and
// ErrNoSpace for errors.Is.
type noSpaceError struct{ err error }

func (e noSpaceError) Error() string   { return e.err.Error() }
func (e noSpaceError) Unwrap() []error { return []error{e.err, ErrNoSpace} }

// NoSpace is noSpace for the store's callers that write files of their own
// under its directory (the worktree's stat cache).
func NoSpace(err error) error { return noSpace(err) }

// noSpace translates ENOSPC and EDQUOT into ErrNoSpace. badger formats its
// causes into its messages without wrapping them, so their text counts too.
func noSpace(err error) error {
	if err == nil || errors.Is(err, ErrNoSpace) {
		return err
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		strings.Contains(err.Error(), syscall.ENOSPC.Error()) || strings.Contains(err.Error(), syscall.EDQUOT.Error()) {
		return noSpaceError{err}
	}
	return err
}
