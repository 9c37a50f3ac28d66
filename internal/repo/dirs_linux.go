package repo

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/worktree"
)

// dirHandles keeps open the directories a journal's renames work in: each
// rename then costs a few system calls relative to its directory, where
// going through the Root walks the path from the top, a call a component.
// The directories were checked to be real directories (prepareParents,
// stagingDir) before they are opened here.
type dirHandles struct {
	root *os.Root
	mu   sync.Mutex
	m    map[string]dirHandle
	// trash, if set, is where discard moves big files (see trash.go).
	trash string
	tag   string       // names the files this process puts in the trash
	seq   atomic.Int64 // numbers them
}

// dirHandle is an open directory and its descriptor, taken once: each
// Fd call costs system calls of its own.
type dirHandle struct {
	f  *os.File
	fd int
}

func newDirHandles(root *os.Root) *dirHandles {
	return &dirHandles{root: root, m: map[string]dirHandle{}}
}

// withTrash has discard move big files into the repository's trash.
func (h *dirHandles) withTrash() *dirHandles {
	h.trash = path.Join(DirName, trashDir)
	h.tag = strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.Itoa(os.Getpid())
	return h
}

func (h *dirHandles) close() {
	for _, d := range h.m {
		d.f.Close()
	}
}

// dir returns the open directory d (relative to the root).
func (h *dirHandles) dir(d string) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if dh, ok := h.m[d]; ok {
		return dh.fd, nil
	}
	f, err := h.root.Open(d)
	if err != nil {
		return -1, err
	}
	dh := dirHandle{f: f, fd: int(f.Fd())}
	h.m[d] = dh
	return dh.fd, nil
}

// stat is an lstat of p.
func (h *dirHandles) stat(p string) (fileStat, error) {
	fd, err := h.dir(path.Dir(p))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fileStat{}, nil
		}
		return fileStat{}, err
	}
	var st unix.Stat_t
	for {
		err = unix.Fstatat(fd, path.Base(p), &st, unix.AT_SYMLINK_NOFOLLOW)
		if err != unix.EINTR {
			break
		}
	}
	switch {
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOTDIR):
		return fileStat{}, nil
	case err != nil:
		return fileStat{}, &os.PathError{Op: "lstat", Path: p, Err: err}
	}
	mode, _ := modeOfUnix(st.Mode)
	return fileStat{exists: true, dir: mode == dag.ModeDir, inode: st.Ino, entry: worktree.StatEntry{
		Size:    st.Size,
		MtimeNs: st.Mtim.Sec*1e9 + st.Mtim.Nsec,
		CtimeNs: st.Ctim.Sec*1e9 + st.Ctim.Nsec,
		Inode:   st.Ino,
		Mode:    mode,
	}}, nil
}

// create makes the file p, which must not exist, open for writing, with
// one system call: through the Root it is one a path component, and an
// os.File opened by path adds a few more to try the poller.
func (h *dirHandles) create(p string, perm os.FileMode) (*os.File, error) {
	fd, err := h.dir(path.Dir(p))
	if err != nil {
		return nil, err
	}
	for {
		nfd, err := unix.Openat(fd, path.Base(p), unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(perm.Perm()))
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return nil, &os.PathError{Op: "open", Path: p, Err: err}
		}
		return os.NewFile(uintptr(nfd), filepath.Join(h.root.Name(), filepath.FromSlash(p))), nil
	}
}

// moveNew moves tmp to p if nothing is at p, in one rename that fails
// otherwise (RENAME_NOREPLACE): a checkout into an empty directory then
// need not look at p first. It reports whether it moved tmp.
func (h *dirHandles) moveNew(tmp, p string) bool {
	from, to, err := h.dirs(tmp, p)
	return err == nil && unix.Renameat2(from, path.Base(tmp), to, path.Base(p), unix.RENAME_NOREPLACE) == nil
}

// dirs returns the open directories of tmp and of p.
func (h *dirHandles) dirs(tmp, p string) (from, to int, err error) {
	if from, err = h.dir(path.Dir(tmp)); err != nil {
		return -1, -1, err
	}
	to, err = h.dir(path.Dir(p))
	return from, to, err
}

// remove removes the file p.
func (h *dirHandles) remove(p string) error {
	fd, err := h.dir(path.Dir(p))
	if err != nil {
		return err
	}
	if err := unix.Unlinkat(fd, path.Base(p), 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return &os.PathError{Op: "remove", Path: p, Err: err}
	}
	return nil
}

// discard removes the file p, which held size bytes. With a trash, a
// big file is moved there instead, to be freed after the command returns;
// where that fails (the trash on another file system) it is removed.
func (h *dirHandles) discard(p string, size int64) error {
	if h.trash == "" || size < trashMinSize {
		return h.remove(p)
	}
	from, err := h.dir(path.Dir(p))
	if err != nil {
		return err
	}
	to, err := h.trashDir()
	if err == nil {
		name := h.tag + "-" + strconv.FormatInt(h.seq.Add(1), 10)
		if unix.Renameat2(from, path.Base(p), to, name, unix.RENAME_NOREPLACE) == nil {
			return nil
		}
	}
	return h.remove(p)
}

// trashDir returns the open trash directory, made if missing. One that
// is not a real directory (a symlink) is not used.
func (h *dirHandles) trashDir() (int, error) {
	fi, err := h.root.Lstat(h.trash)
	if errors.Is(err, os.ErrNotExist) {
		if err = h.root.Mkdir(h.trash, 0o777); err == nil || errors.Is(err, os.ErrExist) {
			fi, err = h.root.Lstat(h.trash)
		}
	}
	if err != nil {
		return -1, err
	}
	if !fi.IsDir() {
		return -1, fmt.Errorf("%s: not a directory", h.trash)
	}
	return h.dir(h.trash)
}

// replace moves the freshly written tmp over p. Where p exists it swaps
// the two names in one step (RENAME_EXCHANGE) and then discards tmp, which
// holds the old file (into the trash, if it is big). The result is as
// atomic as a rename over p, but ext4 does not take it for the
// replace-by-rename pattern, which makes it allocate and start writing
// the new file's blocks at once and the next journal commit wait for
// them (a merge that rewrote a big table then waited in the index's
// close for the table to reach the disk). Worktree
// files are not synced (git does not sync them either); the store is.
// exists says whether p was there a moment ago, and oldSize how big it
// was: where it was not, the exchange, which would fail, is not tried.
func (h *dirHandles) replace(tmp, p string, exists bool, oldSize int64) error {
	from, to, err := h.dirs(tmp, p)
	if err != nil {
		return err
	}
	err = unix.ENOENT
	if exists {
		err = unix.Renameat2(from, path.Base(tmp), to, path.Base(p), unix.RENAME_EXCHANGE)
	}
	switch {
	case err == nil:
		return h.discard(tmp, oldSize)
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EOPNOTSUPP):
		// p does not exist, or the file system cannot exchange.
		if err := unix.Renameat(from, path.Base(tmp), to, path.Base(p)); err != nil {
			return &os.LinkError{Op: "rename", Old: tmp, New: p, Err: err}
		}
		return nil
	default:
		return &os.LinkError{Op: "rename", Old: tmp, New: p, Err: err}
	}
}
