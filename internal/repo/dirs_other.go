//go:build !linux

package repo

import (
	"errors"
	"io/fs"
	"os"
)

// dirHandles does a journal's renames through the Root.
type dirHandles struct{ root *os.Root }

func newDirHandles(root *os.Root) *dirHandles { return &dirHandles{root: root} }

func (h *dirHandles) close() {}

// stat is an lstat of p.
func (h *dirHandles) stat(p string) (fileStat, error) {
	fi, err := h.root.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return fileStat{}, nil
	}
	if err != nil {
		return fileStat{}, err
	}
	mode, _ := modeOf(fi)
	return fileStat{exists: true, dir: fi.IsDir(), inode: inodeOf(fi), entry: statEntry(fi, mode)}, nil
}

// create makes the file p, which must not exist, open for writing.
func (h *dirHandles) create(p string, perm os.FileMode) (*os.File, error) {
	return rootFiles{h.root}.create(p, perm)
}

// moveNew is not tried: the rename goes through replace.
func (h *dirHandles) moveNew(tmp, p string) bool { return false }

// remove removes the file p.
func (h *dirHandles) remove(p string) error {
	if err := h.root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// replace moves the freshly written tmp over p.
func (h *dirHandles) replace(tmp, p string, _ bool, _ int64) error { return h.root.Rename(tmp, p) }

// withTrash does nothing here: a rename over a file frees it at once.
func (h *dirHandles) withTrash() *dirHandles { return h }

// discard removes the file p.
func (h *dirHandles) discard(p string, _ int64) error { return h.remove(p) }
