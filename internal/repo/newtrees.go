package repo

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"

	"github.com/dxdata/dx/internal/worktree"
)

// A directory that an update makes whole (nothing is at its path, so
// everything under it is new) is made under a temporary name beside it,
// its files are written in it under their own names, and it is renamed
// into place in one step with the other moves: a checkout into an empty
// directory (a clone, a worktree emptied) then makes one rename, not one
// for each file and a stat after it. Killed before its journal, such an
// update leaves only temporary directories, which its undo journal, or
// else the next scan, removes whole: nothing under them was the user's.

// newTrees maps each directory an update makes whole, and whose parent
// is in place, to the temporary directory it is made as.
type newTrees struct {
	tops map[string]string
}

// place returns where the new file p is written: in the temporary of the
// directory made whole that holds it (ok), or nowhere special.
func (t *newTrees) place(p string) (string, bool) {
	if t == nil || len(t.tops) == 0 {
		return "", false
	}
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		if tmp, ok := t.tops[d]; ok {
			return tmp + p[len(d):], true
		}
	}
	return "", false
}

// temporaries lists the temporary directories.
func (t *newTrees) temporaries() []string {
	if t == nil {
		return nil
	}
	return slices.Sorted(maps.Values(t.tops))
}

// renames adds to j the renames of the temporary directories into place,
// with their inodes.
func (t *newTrees) renames(root *os.Root, j *journal) error {
	if t == nil {
		return nil
	}
	for _, d := range slices.Sorted(maps.Keys(t.tops)) {
		tmp := t.tops[d]
		fi, err := root.Lstat(tmp)
		if err != nil {
			return err
		}
		j.Renames = append(j.Renames, journalRename{Tmp: tmp, Path: d, Inode: inodeOf(fi), New: true, Dir: true})
	}
	return nil
}

// removeAll removes the temporary directories and all they hold.
func (t *newTrees) removeAll(root *os.Root) { removeTemporaries(root, t.temporaries()) }

// removeTemporaries removes temporary directories (checked to be dx's
// names) whole.
func removeTemporaries(root *os.Root, tmps []string) {
	for _, tmp := range tmps {
		if checkTmpPath(tmp) == nil {
			_ = root.RemoveAll(tmp)
		}
	}
}

// moveDirIntoPlace moves a directory made whole (rn.Tmp) to its path. If
// something got there meanwhile (or a killed replay moved part of it), a
// directory there takes the temporary's entries one by one, and a file
// or a symlink is replaced with force, or refused. Replaying, a
// temporary that is gone was moved; one that is not the update's (another
// inode) is left alone.
func moveDirIntoPlace(root *os.Root, h *dirHandles, rn journalRename, force, replay bool, made *madeDirs) error {
	if replay {
		t, err := h.stat(rn.Tmp)
		if err != nil || !t.exists || t.inode != rn.Inode {
			return err
		}
	}
	if err := prepareParents(root, rn.Path, force, made); err != nil {
		return err
	}
	if h.moveNew(rn.Tmp, rn.Path) {
		return nil
	}
	return mergeDir(root, h, rn.Tmp, rn.Path, force)
}

// mergeDir moves the entries of the directory tmp into dst, which is in
// the way of its rename, and then removes tmp.
func mergeDir(root *os.Root, h *dirHandles, tmp, dst string, force bool) error {
	fi, err := root.Lstat(dst)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return root.Rename(tmp, dst) // gone again
	case err != nil:
		return err
	case !fi.IsDir() && !force:
		return fmt.Errorf("refusing to replace %s with a directory", dst)
	case !fi.IsDir():
		if err := root.Remove(dst); err != nil {
			return fmt.Errorf("replace %s: %w", dst, err)
		}
		return root.Rename(tmp, dst)
	}
	d, err := root.Open(tmp)
	if err != nil {
		return err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return err
	}
	for _, n := range names {
		from, to := path.Join(tmp, n), path.Join(dst, n)
		if h.moveNew(from, to) {
			continue
		}
		var err error
		if _, lerr := root.Lstat(to); errors.Is(lerr, fs.ErrNotExist) {
			err = root.Rename(from, to) // where moveNew is not tried
		} else {
			fi, ferr := root.Lstat(from)
			switch {
			case ferr != nil:
				err = ferr
			case fi.IsDir():
				err = mergeDir(root, h, from, to, force)
			case force:
				err = root.Rename(from, to)
			default:
				err = fmt.Errorf("refusing to replace %s, which appeared during the update", to)
			}
		}
		if err != nil {
			return err
		}
	}
	return root.Remove(tmp)
}

// directStat is the stat entry of a file written in place in a directory
// made whole, taken when it was written: renaming its directory changes
// nothing of it.
func directStat(fi os.FileInfo) worktree.StatEntry {
	mode, _ := modeOf(fi)
	return statEntry(fi, mode)
}
