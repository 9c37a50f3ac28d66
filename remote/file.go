package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// fileLockWait is how long Swap waits for another writer's lock file.
const fileLockWait = 10 * time.Second

// fileBackend is a remote in a directory (a local disk or a shared mount):
// one file per key. Writes go to a temporary file (".name.tmp-…") that is
// synced and renamed into place, so an object is whole or absent. Swap
// serialises writers of a key with a lock file ("key.lock") and compares
// contents. The root directory is created by the first write; reads of a
// missing root find nothing.
//
// A file's tag is "sha256:" and the hex SHA-256 of its content: it changes
// whenever the content does, and unlike the content itself it is never
// empty (which Swap reserves for "absent") and fits on one line.
type fileBackend struct {
	root     string // absolute, cleaned
	lockWait time.Duration
}

var _ Backend = (*fileBackend)(nil)

func openFile(loc location) *fileBackend {
	return &fileBackend{root: loc.dir, lockWait: fileLockWait}
}

func (b *fileBackend) String() string { return "file://" + b.root }

func (b *fileBackend) path(key string) string {
	return filepath.Join(b.root, filepath.FromSlash(key))
}

func fileTag(data []byte) string {
	h := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(h[:])
}

// checkRoot reports whether the root directory exists, and fails when
// something else is in its place.
func (b *fileBackend) checkRoot() (bool, error) {
	fi, err := os.Stat(b.root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("remote %s: %w", b, err)
	case !fi.IsDir():
		return false, fmt.Errorf("remote %s: %s is not a directory", b, b.root)
	}
	return true, nil
}

// Check fails when the root path exists but is not a directory. A
// missing root passes: the first write creates it.
func (b *fileBackend) Check(ctx context.Context) error {
	_, err := b.checkRoot()
	return err
}

// checkKey checks a key for this backend: a valid key whose segments do
// not start with "." (temporary files) or end in ".lock" (lock files).
func (b *fileBackend) checkKey(key string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("remote %s: %w", b, err)
	}
	for _, seg := range strings.Split(key, "/") {
		if strings.HasPrefix(seg, ".") || strings.HasSuffix(seg, ".lock") {
			return fmt.Errorf("remote %s: invalid key %q: names starting with \".\" or ending in \".lock\" are reserved", b, key)
		}
	}
	return nil
}

// absent reports whether err means a path is not there (or a file sits
// where a directory on the path should be, or a directory where the file
// should be).
func absent(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EISDIR)
}

func (b *fileBackend) Get(ctx context.Context, key string, limit int64) ([]byte, string, error) {
	if err := b.checkKey(key); err != nil {
		return nil, "", err
	}
	if _, err := b.checkRoot(); err != nil {
		return nil, "", err
	}
	f, err := os.Open(b.path(key))
	if absent(err) {
		return nil, "", fmt.Errorf("remote %s: %s: %w", b, key, ErrNotExist)
	}
	if err != nil {
		return nil, "", fmt.Errorf("remote %s: get %s: %w", b, key, err)
	}
	defer f.Close()
	size := int64(-1)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	if size > limit {
		return nil, "", fmt.Errorf("remote %s: get %s: %d bytes, more than %d: %w", b, key, size, limit, ErrTooLarge)
	}
	data, err := readLimited(f, limit, size)
	if absent(err) {
		return nil, "", fmt.Errorf("remote %s: %s: %w", b, key, ErrNotExist)
	}
	if err != nil {
		return nil, "", fmt.Errorf("remote %s: get %s: %w", b, key, err)
	}
	return data, fileTag(data), nil
}

// readLimited reads r to its end, or fails with ErrTooLarge once it has
// read more than limit bytes. size, if not negative, is what r is
// expected to hold (at most limit): the buffer is allocated once.
func readLimited(r io.Reader, limit, size int64) ([]byte, error) {
	var buf bytes.Buffer
	if size >= 0 {
		buf.Grow(int(size) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(r, max(limit, 0)+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > limit {
		return nil, fmt.Errorf("more than %d bytes: %w", limit, ErrTooLarge)
	}
	return buf.Bytes(), nil
}

func (b *fileBackend) GetRange(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	if err := b.checkKey(key); err != nil {
		return nil, err
	}
	if off < 0 || n < 0 {
		return nil, fmt.Errorf("remote %s: get %s: bad range %d+%d", b, key, off, n)
	}
	if _, err := b.checkRoot(); err != nil {
		return nil, err
	}
	f, err := os.Open(b.path(key))
	if absent(err) {
		return nil, fmt.Errorf("remote %s: %s: %w", b, key, ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("remote %s: get %s: %w", b, key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("remote %s: get %s: %w", b, key, err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("remote %s: %s: %w", b, key, ErrNotExist)
	}
	if off+n > fi.Size() {
		f.Close()
		return nil, rangeError(b, key, off, n, fi.Size())
	}
	return struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(f, off, n), f}, nil
}

func (b *fileBackend) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := b.checkKey(key); err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("remote %s: put %s: negative size %d", b, key, size)
	}
	if _, err := b.checkRoot(); err != nil {
		return err
	}
	p := b.path(key)
	if err := ensureDir(filepath.Dir(p)); err != nil {
		return fmt.Errorf("remote %s: put %s: %w", b, key, err)
	}
	if err := writeFile(ctx, p, &exactReader{r: r, left: size, size: size}); err != nil {
		return fmt.Errorf("remote %s: put %s: %w", b, key, err)
	}
	return nil
}

func (b *fileBackend) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, fmt.Errorf("remote %s: %w", b, err)
	}
	if ok, err := b.checkRoot(); !ok || err != nil {
		return nil, err
	}
	// Walk from the deepest directory the prefix names in full.
	start := b.root
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = b.path(prefix[:i])
	}
	if fi, err := os.Stat(start); absent(err) || err == nil && !fi.IsDir() {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("remote %s: list %s: %w", b, prefix, err)
	}
	var out []ObjectInfo
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if absent(err) { // removed while we walked
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == start {
			return nil
		}
		rel, err := filepath.Rel(b.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		name := d.Name()
		if d.IsDir() {
			dir := key + "/"
			if strings.HasPrefix(name, ".") || !strings.HasPrefix(dir, prefix) && !strings.HasPrefix(prefix, dir) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".lock") ||
			!strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := d.Info()
		if absent(err) {
			return nil
		}
		if err != nil {
			return err
		}
		out = append(out, ObjectInfo{Key: key, Size: fi.Size(), Modified: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("remote %s: list %s: %w", b, prefix, err)
	}
	// The walk sorts each directory by name; keys sort differently
	// ("a-b" < "a/b").
	slices.SortFunc(out, func(x, y ObjectInfo) int { return strings.Compare(x.Key, y.Key) })
	return out, nil
}

func (b *fileBackend) Swap(ctx context.Context, key, oldTag string, data []byte) (string, error) {
	if err := b.checkKey(key); err != nil {
		return "", err
	}
	if _, err := b.checkRoot(); err != nil {
		return "", err
	}
	p := b.path(key)
	if err := ensureDir(filepath.Dir(p)); err != nil {
		return "", fmt.Errorf("remote %s: update %s: %w", b, key, err)
	}
	unlock, err := b.lock(ctx, key, p+".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	cur, err := os.ReadFile(p)
	exists := err == nil
	if err != nil && !absent(err) {
		return "", fmt.Errorf("remote %s: update %s: %w", b, key, err)
	}
	if oldTag == "" && exists || oldTag != "" && (!exists || fileTag(cur) != oldTag) {
		return "", fmt.Errorf("remote %s: update %s: %w", b, key, ErrPrecondition)
	}
	if err := writeFile(ctx, p, bytes.NewReader(data)); err != nil {
		return "", fmt.Errorf("remote %s: update %s: %w", b, key, err)
	}
	return fileTag(data), nil
}

func (b *fileBackend) Delete(ctx context.Context, key string) error {
	if err := b.checkKey(key); err != nil {
		return err
	}
	if _, err := b.checkRoot(); err != nil {
		return err
	}
	p := b.path(key)
	if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
		return nil // not an object
	}
	if err := os.Remove(p); err != nil && !absent(err) {
		return fmt.Errorf("remote %s: delete %s: %w", b, key, err)
	}
	return nil
}

// writeFile writes r to a temporary file beside p, syncs it, renames it to
// p and syncs the directory, so that p is the old file or the whole new
// one, also after a crash.
func writeFile(ctx context.Context, p string, r io.Reader) (err error) {
	dir := filepath.Dir(p)
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(dir, "."+filepath.Base(p)+".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = io.Copy(f, ctxReader{ctx, r}); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, p); err != nil {
		return err
	}
	return syncDir(dir)
}

// ensureDir creates dir and any missing parents, syncing each parent that
// gains an entry so that the new directories survive a crash.
func ensureDir(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := ensureDir(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o777); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

// syncDir makes a directory's entries durable. File systems that cannot
// sync a directory say so with EINVAL; that is not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return err
	}
	return nil
}

// ctxReader stops a copy when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// checkKey checks an object key, the same for every backend: non-empty,
// slash-separated, relative, with no empty, "." or ".." segments.
func checkKey(key string) error {
	if key == "" {
		return errors.New("empty key")
	}
	if strings.ContainsAny(key, "\\\x00") {
		return fmt.Errorf("invalid key %q", key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("invalid key %q", key)
		}
	}
	return nil
}

// checkPrefix checks a listing prefix: empty, or the start of a valid key
// (it may end in "/" or part-way through a name).
func checkPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if checkKey(prefix+"x") != nil {
		return fmt.Errorf("invalid prefix %q", prefix)
	}
	return nil
}

// exactReader passes on exactly size bytes of r: it stops there, and an
// earlier end of r is a *shortBodyError.
type exactReader struct {
	r          io.Reader
	left, size int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if err == io.EOF {
		if e.left > 0 {
			return n, &shortBodyError{got: e.size - e.left, want: e.size}
		}
		err = nil
	}
	if e.left == 0 && err == nil {
		err = io.EOF
	}
	return n, err
}

// shortBodyError: a Put's reader ended before the size it was given.
type shortBodyError struct{ got, want int64 }

func (e *shortBodyError) Error() string {
	return fmt.Sprintf("reader ended after %d of %d bytes", e.got, e.want)
}

func (e *shortBodyError) Unwrap() error { return io.ErrUnexpectedEOF }
