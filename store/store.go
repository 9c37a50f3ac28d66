package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/pack"
)

// Errors returned by the store. They are wrapped with the operation's name.
var (
	// ErrNotFound: no object or ref of that name.
	ErrNotFound = errors.New("not found")
	// ErrCorrupt: stored bytes fail verification (hash, decoding, pack checksum).
	ErrCorrupt = errors.New("integrity error")
	// ErrLocked: another process holds the store and did not release it in time.
	ErrLocked = errors.New("repository is locked by another dx process")
	// ErrRefChanged: a compare-and-swap lost because the ref moved.
	ErrRefChanged = errors.New("ref changed concurrently")
	// ErrNotStore: the directory is not a dx store.
	ErrNotStore = errors.New("not a dx repository")
	// ErrAmbiguous: an abbreviated ID matches several objects.
	ErrAmbiguous = errors.New("ambiguous object id")
	// ErrNoSpace: the file system holding the store is full, or would keep
	// less free space than the index's reserve (see doc.go) after the write.
	// Nothing was half-written: free space and run the operation again.
	ErrNoSpace = errors.New("no space left on device")
	// ErrReadOnly: a write to a store opened ReadOnly.
	ErrReadOnly = errors.New("store opened read-only")
)

// Access says what the opener of a store will do with it.
type Access uint8

const (
	// ReadWrite: any operation. Open fails with ErrNoSpace when the file
	// system lacks the index's reserve.
	ReadWrite Access = iota
	// ReadOnly: reads only; writes fail with ErrReadOnly and caches (derived
	// data, key ranges) are not updated. Readers share the store with each
	// other and need no free space, except to recover the index after a
	// writer crashed (then Open writes, as ReadWrite would).
	ReadOnly
	// ReadCaching: reads, and updates caches. Opened ReadWrite when the
	// file system has the index's reserve, else ReadOnly.
	ReadCaching
)

func (a Access) String() string {
	switch a {
	case ReadWrite:
		return "read-write"
	case ReadOnly:
		return "read-only"
	case ReadCaching:
		return "read-caching"
	}
	return fmt.Sprintf("Access(%d)", uint8(a))
}

// Options configure Open.
type Options struct {
	// LockTimeout is how long Open waits for another process to release the
	// store. Zero means 30 seconds.
	LockTimeout time.Duration
	// PackSize is the size at which a pack is finished. Zero means 16 MiB.
	// Packs are built in memory, so this bounds memory too.
	PackSize int64
	// Workers is the number of ingest workers. Zero means GOMAXPROCS.
	Workers int
	// Partial says the store may lack file content that its commits name
	// (a sparse repository fetched only some paths): fsck counts absent
	// file nodes and chunks as not fetched rather than as problems, and gc
	// marks through them.
	Partial bool
	// Access is what the opener will do; the zero value is ReadWrite.
	Access Access
}

// Validate checks the options.
func (o Options) Validate() error {
	if o.LockTimeout < 0 || o.PackSize < 0 || o.Workers < 0 {
		return errors.New("store: negative option")
	}
	if o.Access > ReadCaching {
		return fmt.Errorf("store: unknown access %s", o.Access)
	}
	if o.PackSize != 0 && o.PackSize < 1<<16 {
		return errors.New("store: pack size below 64 KiB")
	}
	return nil
}

// Store is an open `.dx` directory. It is safe for concurrent use by the
// goroutines of one process.
type Store struct {
	dir   string
	db    *badger.DB
	opts  Options
	space *spaceGuard
	// readOnly: the store was opened ReadOnly (or ReadCaching on a full
	// file system); badger itself may still be writable, when the open
	// had to recover the index.
	readOnly bool
	comp     *pack.Compressor
	stats    Stats

	// Packers (packer.go): each has its own lock. Locks are taken
	// metaPacker first, then the data packers in order, then pendingMu.
	dataPackers []*packer
	metaPacker  *packer
	nextPacker  atomic.Uint32 // spreads Put's data objects over the data packers

	deferMu  sync.Mutex      // guards deferred; taken after the packers' locks
	deferred []*deferredMeta // early metadata packs waiting for data packs

	storedBufs sync.Pool // of *[]byte: buffers objects' stored bytes are read into

	// indexed, if set (by tests), is called by the pack finisher after
	// each pack is indexed, in order.
	indexed func(meta bool, entries []pack.Entry)

	pendingMu sync.Mutex // guards pending
	pending   map[dag.ID]pendingObj

	// The pack finisher (pack_finisher.go).
	finishQueue   chan *packJob
	finisherDone  chan struct{} // closed when the pack finisher exits
	finishErrMu   sync.Mutex
	finishFailure error // first pack-finishing failure; sticks
	stopOnce      sync.Once
	packBufs      chan *alignedBuf // recycled data pack buffers (packbufs.go)
	closed        atomic.Bool

	packHandlesMu sync.Mutex
	packHandles   map[dag.ID]*packHandle // open pack files for reading (packcache.go)

	// indexGen counts changes to the object index; read transactions kept
	// for Has (readTxns) are used only while their generation is current.
	indexGen atomic.Uint64
	readTxns chan *readTxn
}

// Stats counts the store's work since Open. Fields are updated atomically.
type Stats struct {
	ObjectsRead     atomic.Int64
	BytesRead       atomic.Int64 // raw bytes returned by Get
	StoredBytesRead atomic.Int64 // stored (compressed) bytes Get read from packs
	ChunksWritten   atomic.Int64
	DataBytesStored atomic.Int64 // stored (compressed) bytes of new chunks
	DataBytesRaw    atomic.Int64
	MetaWritten     atomic.Int64
	MetaBytesStored atomic.Int64
	MetaBytesRaw    atomic.Int64
	PacksWritten    atomic.Int64
}

// Snapshot returns the counters as a plain map (for --stats output).
func (s *Stats) Snapshot() map[string]int64 {
	return map[string]int64{
		"objects_read":      s.ObjectsRead.Load(),
		"bytes_read":        s.BytesRead.Load(),
		"stored_bytes_read": s.StoredBytesRead.Load(),
		"chunks_written":    s.ChunksWritten.Load(),
		"data_bytes_stored": s.DataBytesStored.Load(),
		"data_bytes_raw":    s.DataBytesRaw.Load(),
		"meta_written":      s.MetaWritten.Load(),
		"meta_bytes_stored": s.MetaBytesStored.Load(),
		"meta_bytes_raw":    s.MetaBytesRaw.Load(),
		"packs_written":     s.PacksWritten.Load(),
	}
}

const (
	packsDir = "packs"
	indexDir = "index"
	tmpDir   = "tmp"
	// formatFile marks a directory as a dx store and records its version.
	formatFile    = "FORMAT"
	formatContent = "dx store v1\n"
)

// Init creates a new store in dir (the `.dx` directory). It fails if one
// exists already.
func Init(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, formatFile)); err == nil {
		return fmt.Errorf("store: %s already holds a dx store", dir)
	}
	for _, d := range []string{dir, filepath.Join(dir, packsDir), filepath.Join(dir, tmpDir), filepath.Join(dir, indexDir)} {
		if err := os.MkdirAll(d, dirMode); err != nil {
			return fmt.Errorf("store init: %w", err)
		}
	}
	// FORMAT is written last: a crash leaves a directory that is not a store.
	if err := WriteFileAtomic(filepath.Join(dir, formatFile), []byte(formatContent)); err != nil {
		return fmt.Errorf("store init: %w", err)
	}
	return nil
}

// IsStore reports whether dir holds a dx store.
func IsStore(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, formatFile))
	return err == nil && string(b) == formatContent
}

// Open opens the store in dir, waiting up to LockTimeout for another dx
// process to release it.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = 30 * time.Second
	}
	if opts.PackSize == 0 {
		opts.PackSize = 16 << 20
	}
	b, err := os.ReadFile(filepath.Join(dir, formatFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("store open %s: %w", dir, ErrNotStore)
		}
		return nil, fmt.Errorf("store open: %w", err)
	}
	if string(b) != formatContent {
		return nil, fmt.Errorf("store open %s: unknown store format %q", dir, strings.TrimSpace(string(b)))
	}
	bopts := indexOptions(filepath.Join(dir, indexDir))
	space := newSpaceGuard(dir, bopts)
	db, readOnly, err := openIndex(ctx, bopts, opts, space)
	if err != nil {
		return nil, err
	}
	s := &Store{
		dir:          dir,
		db:           db,
		opts:         opts,
		space:        space,
		readOnly:     readOnly,
		comp:         pack.NewCompressor(),
		pending:      map[dag.ID]pendingObj{},
		packHandles:  map[dag.ID]*packHandle{},
		finishQueue:  make(chan *packJob, 1),
		packBufs:     make(chan *alignedBuf, packBufsKept),
		finisherDone: make(chan struct{}),
		readTxns:     make(chan *readTxn, 64),
	}
	go s.packFinisher()
	for range min(runtime.GOMAXPROCS(0), maxDataPackers) {
		s.dataPackers = append(s.dataPackers, &packer{store: s})
	}
	s.metaPacker = &packer{store: s, meta: true}
	return s, nil
}

// indexOptions are the badger options of the index in dir.
func indexOptions(dir string) badger.Options {
	return badger.DefaultOptions(dir).
		WithLogger(nil).
		// Writes are not synced one by one: syncIndex makes them
		// durable where the write order needs it (before a ref moves,
		// before a pack file is deleted). Index entries lost to a power
		// failure before that only make packs orphans, which gc removes.
		WithSyncWrites(false).
		// Small memtables are flushed to tables in the background while
		// a big commit goes on, leaving little to flush on close (with
		// 16 MiB, closing after a commit of many files waited for it).
		// And every open creates a memtable file of twice this size and
		// touches it through a mapping: the kernel's read-ahead then
		// fills pages of the sparse file (see the value log below).
		WithMemTableSize(1 << 20).
		WithNumMemtables(2).
		// Level-0 tables are compacted only when there are 8: with
		// the small memtables a big commit leaves several, and
		// compacting two at the next open made that command's close wait
		// for it.
		WithNumLevelZeroTables(level0Tables).
		WithNumLevelZeroTablesStall(16).
		// Every open also creates a value log file (twice this size,
		// mapped), for values over the threshold: dx stores none (its
		// values are a few dozen bytes), so the smallest size allowed:
		// with this and 1 MiB memtables, against 64 and 4 MiB, short
		// commands (a warm `dx log -n 1`, a cold merge --into) open and
		// close faster.
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

// writable fails with ErrReadOnly, naming op, if the store was opened
// read-only.
func (s *Store) writable(op string) error {
	if s.readOnly {
		return fmt.Errorf("%s: %w", op, ErrReadOnly)
	}
	return nil
}

// ReadOnly reports whether the store refuses writes (opened ReadOnly, or
// ReadCaching on a full file system).
func (s *Store) ReadOnly() bool { return s.readOnly }

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// Stats returns the store's counters.
func (s *Store) Stats() *Stats { return &s.stats }

// Close flushes pending objects and releases the store. Objects written but
// not flushed by an earlier Flush are flushed here.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	ferr := s.flush()
	s.stopPackFinisher()
	s.closePacks()
	s.dropReadTxns()
	s.freePackBufs()
	cerr := errors.Join(s.compactLevel0(), s.db.Close())
	return noSpace(errors.Join(ferr, cerr))
}

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

// Abandon releases the store without flushing pending objects (their
// temporary pack files are removed). Used when an operation fails.
func (s *Store) Abandon() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.metaPacker.mu.Lock()
	s.lockDataPackers()
	for _, p := range s.dataPackers {
		p.discard()
	}
	s.metaPacker.discard()
	s.dropDeferred()
	s.unlockDataPackers()
	s.metaPacker.mu.Unlock()
	// Packs already queued are complete and consistent; they are indexed.
	s.stopPackFinisher()
	s.closePacks()
	s.dropReadTxns()
	s.freePackBufs()
	return noSpace(s.db.Close())
}

// WriteFileAtomic writes a small file durably: a temporary file, fsync,
// rename over path, fsync of the directory.
func WriteFileAtomic(path string, b []byte) error {
	return noSpace(writeFileAtomic(path, b))
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fileMode)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
