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

// defaultPackSize is Options.PackSize when zero.
const defaultPackSize = 16 << 20

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
	// PackSize is the size at which a pack is finished. Zero means 16 MiB
	// (defaultPackSize).
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
	closed   atomic.Bool // by Close or Abandon

	// Packers (packer.go): each has its own lock. Locks are taken
	// metaPacker first, then the data packers in order, then a pending shard's.
	dataPackers []*packer
	metaPacker  *packer
	nextPacker  atomic.Uint32 // spreads Put's data objects over the data packers

	deferMu  sync.Mutex      // guards deferred; taken after the packers' locks
	deferred []*deferredMeta // early metadata packs waiting for data packs

	shallow shallowCache // the missing parents of shallow commits (shallow.go)

	storedBufs sync.Pool // of *[]byte: buffers objects' stored bytes are read into
	chunkBufs  sync.Pool // of *[]byte: buffers small files' chunks are decoded into (CopyFile)

	// indexed, if set (by tests), is called by the pack finisher after
	// each pack is indexed, in order.
	indexed func(meta bool, entries []pack.Entry)

	objs    *objectIndex // where each object is (objindex.go)
	pending *pendingSet  // objects in packs not yet indexed (pending.go)
	journal *packJournal // packs indexed since the index was last durable (journal.go)
	fresh   freshIndex   // whether Has may answer from memory (fresh.go)

	// The pack finisher (packer.go).
	finishQueue   chan *packJob
	finisherDone  chan struct{} // closed when the pack finisher exits
	finishErrMu   sync.Mutex
	finishFailure error // first pack-finishing failure; sticks
	stopOnce      sync.Once
	packBufs      chan *alignedBuf // recycled data pack buffers (packbufs.go)

	packHandlesMu sync.Mutex
	packHandles   map[dag.ID]*packHandle // open pack files for reading (packcache.go)
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
	IndexLookups    atomic.Int64 // Has calls that looked in the index (not answered from memory)
	ChunksInPlace   atomic.Int64 // new chunks compressed straight into their pack's buffer
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
		"chunks_in_place":   s.ChunksInPlace.Load(),
		"index_lookups":     s.IndexLookups.Load(),
	}
}

const (
	packsDir = "packs"
	indexDir = "index"
	tmpDir   = "tmp"
	// formatFile marks a directory as a dx store and records its version.
	// v2 keeps the object index in location files (objindex.go); a v1
	// store, which kept it in badger, is upgraded by the first open (a
	// reader's reopens for writing). An older dx refuses a v2 store by
	// this name.
	formatFile    = "FORMAT"
	formatContent = "dx store v2\n"
	formatV1      = "dx store v1\n"
)

// Init creates a new store in dir (the `.dx` directory). It fails if one
// exists already.
func Init(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, formatFile)); err == nil {
		return fmt.Errorf("store: %s already holds a dx store", dir)
	}
	for _, d := range []string{dir, filepath.Join(dir, packsDir), filepath.Join(dir, tmpDir), filepath.Join(dir, indexDir), filepath.Join(dir, locsDir)} {
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
	return err == nil && (string(b) == formatContent || string(b) == formatV1)
}

func (s *Store) formatPath() string { return filepath.Join(s.dir, formatFile) }

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
		opts.PackSize = defaultPackSize
	}
	b, err := os.ReadFile(filepath.Join(dir, formatFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("store open %s: %w", dir, ErrNotStore)
		}
		return nil, fmt.Errorf("store open: %w", err)
	}
	v1 := string(b) == formatV1
	if !v1 && string(b) != formatContent {
		return nil, fmt.Errorf("store open %s: unknown store format %q", dir, strings.TrimSpace(string(b)))
	}
	bopts := indexOptions(filepath.Join(dir, indexDir))
	space := newSpaceGuard(dir, bopts)
	db, readOnly, err := openIndex(ctx, bopts, opts, space)
	if err != nil {
		return nil, err
	}
	reindex := journalNeedsIndexing(dir)
	if (reindex || v1) && db.Opts().ReadOnly {
		// The last writer did not close: its packs are indexed again,
		// which a reader does as a writer would (see ReadOnly); and a v1
		// store is upgraded.
		db.Close()
		rw, _, err := openIndex(ctx, bopts, Options{Access: ReadWrite, LockTimeout: opts.LockTimeout}, space)
		if err != nil {
			if v1 {
				return nil, fmt.Errorf("store open %s: a dx store of format v1 must be upgraded, which needs write access: %w", dir, err)
			}
			// It cannot write here (a full disk, a read-only mount):
			// it reads the index as it is.
			if rw, readOnly, err = openIndex(ctx, bopts, opts, space); err != nil {
				return nil, err
			}
		}
		db = rw
	}
	objs, err := openObjectIndex(db, filepath.Join(dir, locsDir), !db.Opts().ReadOnly)
	// A listed location file missing or malformed: the index is rebuilt
	// from the packs' footers, which a reader does as a writer would.
	rebuild := errors.Is(err, errLocFiles)
	if rebuild && db.Opts().ReadOnly {
		db.Close()
		if db, _, err = openIndex(ctx, bopts, Options{Access: ReadWrite, LockTimeout: opts.LockTimeout}, space); err != nil {
			return nil, fmt.Errorf("store open %s: the object index must be rebuilt, which needs write access: %w", dir, err)
		}
	}
	if rebuild {
		objs, err = &objectIndex{dir: filepath.Join(dir, locsDir), mem: map[dag.ID]Location{}}, nil
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store open %s: %w", dir, err)
	}
	s := &Store{
		dir:          dir,
		db:           db,
		opts:         opts,
		space:        space,
		readOnly:     readOnly,
		comp:         pack.NewCompressor(),
		objs:         objs,
		pending:      newPendingSet(),
		journal:      newPackJournal(dir),
		packHandles:  map[dag.ID]*packHandle{},
		finishQueue:  make(chan *packJob, 1),
		packBufs:     make(chan *alignedBuf, packBufsKept),
		finisherDone: make(chan struct{}),
	}
	go s.packFinisher()
	for range min(runtime.GOMAXPROCS(0), maxDataPackers) {
		s.dataPackers = append(s.dataPackers, &packer{store: s})
	}
	s.metaPacker = &packer{store: s, meta: true}
	if !db.Opts().ReadOnly {
		var err error
		if v1 {
			err = s.migrateV1()
		} else {
			err = s.dropStaleObjectKeys()
		}
		if err != nil {
			s.journal.keep()
			s.Abandon()
			return nil, err
		}
	}
	if rebuild {
		if err := s.rebuildObjectIndex(ctx); err != nil {
			s.journal.keep()
			s.Abandon()
			return nil, err
		}
	}
	if reindex && !db.Opts().ReadOnly {
		if err := s.recoverJournal(ctx); err != nil {
			s.journal.keep()
			s.Abandon()
			return nil, err
		}
	}
	return s, nil
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
	ferr = errors.Join(ferr, s.closeObjectIndex())
	s.closePacks()
	s.freePackBufs()
	cerr := errors.Join(s.compactLevel0(), s.db.Close())
	s.closeJournal(ferr == nil && cerr == nil)
	return noSpace(errors.Join(ferr, cerr))
}

// closeJournal closes the pack journal, and removes it when the index was
// written and closed without error (badger's close flushes its memtables
// to synced tables).
func (s *Store) closeJournal(closedClean bool) {
	s.journal.close(closedClean && !s.db.Opts().ReadOnly)
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
	ierr := s.closeObjectIndex()
	s.closePacks()
	s.freePackBufs()
	err := errors.Join(ierr, s.db.Close())
	s.closeJournal(err == nil)
	return noSpace(err)
}
