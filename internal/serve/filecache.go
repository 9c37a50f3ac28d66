package serve

import (
	"container/list"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dxdata/dx/dag"
)

// fileCache keeps decoded copies of whole files on disk (see doc.go), each
// a file of its own named by its File id, up to max bytes in all, least
// recently used first out. A copy is written beside its name, under a
// temporary one, while a whole GET of the file streams chunks that were
// verified against their ids, and renamed to its name only once it holds
// the file's every byte: a name in the directory is always a whole file.
// A File id names one content forever, so a copy never goes stale.
//
// Readers open a copy and read it without the cache's lock; a copy evicted
// meanwhile is only unlinked, and an open descriptor keeps reading it.
// The directory is the server's own, for one run: the copies are removed
// when the server stops, and any an earlier run left (a crash) when the
// cache opens, since a crash may have cut them short after they were
// named.
type fileCache struct {
	dir   string
	max   int64 // bytes of copies kept and fills under way, at most
	min   int64 // files smaller than this are left to the chunk cache
	stats *Stats
	// free says how many bytes the cache's file system has free (an
	// error where it cannot say); a fill starts only if it leaves
	// fileCacheFreeMargin free.
	free func(dir string) (int64, error)

	mu      sync.Mutex
	size    int64      // bytes of the copies kept and of the fills under way
	lru     *list.List // of *fileEntry, most recent at the front
	entries map[dag.ID]*list.Element
	filling map[dag.ID]bool
	ranged  map[dag.ID]int64 // bytes of ranged GETs from the store (hotfill.go)
}

// fileEntry is one copy kept.
type fileEntry struct {
	id   dag.ID
	size int64
}

const (
	// fileCacheMin: smaller files are served from the chunk cache, which
	// holds them as well as a copy would, without a file each.
	fileCacheMin = 1 << 20
	// fileCacheFreeMargin is the free space a fill leaves its file system
	// at least, for the repository's own writes.
	fileCacheFreeMargin = 1 << 30
	// fillPrefix begins the temporary name of a copy being written.
	fillPrefix = ".fill-"
)

// newFileCache opens the cache in dir, made if need be, emptied of the
// copies and temporary files an earlier run left (and of nothing else).
func newFileCache(dir string, max int64, stats *Stats) (*fileCache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("serve: file cache: %w", err)
	}
	if err := emptyCacheDir(dir); err != nil {
		return nil, err
	}
	return &fileCache{dir: dir, max: max, min: fileCacheMin, stats: stats, free: freeBytes,
		lru: list.New(), entries: map[dag.ID]*list.Element{}, filling: map[dag.ID]bool{}, ranged: map[dag.ID]int64{}}, nil
}

// emptyCacheDir removes the copies and temporary files in dir, and
// nothing else.
func emptyCacheDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("serve: file cache: %w", err)
	}
	for _, e := range ents {
		if isCacheName(e.Name()) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("serve: file cache: %w", err)
			}
		}
	}
	return nil
}

// close removes the copies when the server stops: the next run would not
// use them. A response still sending one reads on.
func (c *fileCache) close() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.lru.Len() > 0 {
		c.removeLocked(c.lru.Back())
	}
	if err := emptyCacheDir(c.dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// isCacheName reports whether a name in the cache's directory is one the
// cache writes: a File id, or a copy being written.
func isCacheName(name string) bool {
	if strings.HasPrefix(name, fillPrefix) {
		return true
	}
	_, err := dag.ParseID(name)
	return err == nil
}

func (c *fileCache) path(id dag.ID) string { return filepath.Join(c.dir, id.String()) }

// open returns the copy of File id, which has size bytes, open for
// reading, or nil when none is kept (or c is nil). A copy of another size,
// or one gone from the directory, is dropped and not served.
func (c *fileCache) open(id dag.ID, size int64) *os.File {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	e, ok := c.entries[id]
	if ok {
		c.lru.MoveToFront(e)
	}
	c.mu.Unlock()
	if !ok {
		return nil
	}
	f, err := os.Open(c.path(id))
	if err == nil {
		fi, err := f.Stat()
		if err == nil && fi.Size() == size {
			c.stats.FileCacheHits.Add(1)
			return f
		}
		f.Close()
	}
	c.discard(id)
	return nil
}

// discard drops the copy of File id, found damaged.
func (c *fileCache) discard(id dag.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[id]; ok {
		c.removeLocked(e)
		c.stats.FileCacheDiscards.Add(1)
	}
}

// removeLocked forgets a copy and unlinks it; readers that opened it read
// on. Called with mu held, so that no fill of the same file names a new
// copy meanwhile.
func (c *fileCache) removeLocked(e *list.Element) {
	fe := e.Value.(*fileEntry)
	c.lru.Remove(e)
	delete(c.entries, fe.id)
	c.size -= fe.size
	_ = os.Remove(c.path(fe.id))
}

// startFill returns the fill that writes a copy of File id, of size
// bytes, room made for it by evicting the copies least recently used; or
// nil when c is nil, the file is kept or being filled already (only one
// fill a file), is too small or too big for the cache, or the disk lacks
// room.
func (c *fileCache) startFill(id dag.ID, size int64) *fileFill {
	if c == nil || size < c.min || size > c.max {
		return nil
	}
	if free, err := c.free(c.dir); err == nil && free < size+fileCacheFreeMargin {
		return nil
	}
	c.mu.Lock()
	if _, ok := c.entries[id]; ok || c.filling[id] {
		c.mu.Unlock()
		return nil
	}
	for c.size+size > c.max && c.lru.Len() > 0 {
		c.removeLocked(c.lru.Back())
		c.stats.FileCacheEvictions.Add(1)
	}
	if c.size+size > c.max { // the fills under way take the room
		c.mu.Unlock()
		return nil
	}
	c.filling[id] = true
	c.size += size
	c.mu.Unlock()
	f, err := os.CreateTemp(c.dir, fillPrefix+id.String()+"-")
	if err != nil {
		c.endFill(id, size, false)
		return nil
	}
	return &fileFill{c: c, id: id, size: size, f: f}
}

// endFill ends the fill of File id: kept, its copy is named and counted;
// else its room is given back.
func (c *fileCache) endFill(id dag.ID, size int64, kept bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.filling, id)
	if !kept {
		c.size -= size
		c.stats.FileCacheAbandoned.Add(1)
		return
	}
	c.entries[id] = c.lru.PushFront(&fileEntry{id: id, size: size})
	c.stats.FileCacheFills.Add(1)
}

// fileFill writes one copy, from one response's goroutine.
type fileFill struct {
	c    *fileCache
	id   dag.ID
	size int64
	n    int64    // bytes written
	f    *os.File // nil once kept or abandoned
}

// write appends verified bytes of the file, in order, and reports
// whether the copy took them. The copy is named as soon as it holds size
// bytes; a write that fails (a full disk) or goes past size gives the
// fill up. A response goes on either way.
func (fl *fileFill) write(p []byte) bool {
	if fl.f == nil {
		return false
	}
	if fl.n+int64(len(p)) > fl.size {
		fl.abandon()
		return false
	}
	if _, err := fl.f.Write(p); err != nil {
		fl.abandon()
		return false
	}
	if fl.n += int64(len(p)); fl.n == fl.size {
		fl.keep()
	}
	return true
}

// keep names the complete copy.
func (fl *fileFill) keep() {
	tmp := fl.f.Name()
	err := fl.f.Close()
	fl.f = nil
	if err == nil {
		err = os.Rename(tmp, fl.c.path(fl.id))
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	fl.c.endFill(fl.id, fl.size, err == nil)
}

// abandon gives the fill up and removes what it wrote; once the copy is
// kept, it does nothing.
func (fl *fileFill) abandon() {
	if fl.f == nil {
		return
	}
	tmp := fl.f.Name()
	_ = fl.f.Close()
	fl.f = nil
	_ = os.Remove(tmp)
	fl.c.endFill(fl.id, fl.size, false)
}

// fillWriter writes a whole file's bytes to the client and to the copy
// being filled: to the copy first, so that the copy is named before the
// client has the last byte.
type fillWriter struct {
	w    io.Writer
	fill *fileFill
}

func (t fillWriter) Write(p []byte) (int, error) {
	t.fill.write(p)
	return t.w.Write(p)
}

// copyRange writes bytes [from, to) of a copy to w: an *os.File behind an
// io.LimitedReader, which net/http's ResponseWriter hands to sendfile, so
// the bytes go from the page cache to the socket without a user copy. A
// copy found short (cut by something else since it was opened) is
// dropped.
func (c *fileCache) copyRange(w io.Writer, f *os.File, id dag.ID, from, to int64) error {
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return err
	}
	n, err := io.Copy(w, io.LimitReader(f, to-from))
	if err == nil && n != to-from {
		c.discard(id)
		err = fmt.Errorf("copy of %s: %d bytes of %d: %w", id.Short(), n, to-from, io.ErrUnexpectedEOF)
	}
	return err
}
