package repo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The trash (.dx/trash) holds big worktree files that an update replaced
// or removed, until their blocks are freed. Freeing a file costs time in
// proportion to its size (a third of a second for 1 GiB on ext4 mounted
// with discard), which the command that made it garbage need not wait
// for: the CLI frees the trash in a detached process once it has returned
// (Options.DetachTrash), and Close frees it otherwise. A file goes to the
// trash only once nothing refers to it; one a kill left there is freed
// after the next command.
const trashDir = "trash"

// trashMinSize: smaller files are removed at once. Freeing 16 MiB costs
// about what starting the detached process does (5 ms, at a third of a
// second a GiB).
const trashMinSize = 16 << 20

// TrashPath is the trash directory of the worktree at root.
func TrashPath(root string) string { return filepath.Join(root, DirName, trashDir) }

// TrashPending reports whether the trash of the worktree at root holds
// files to free.
func TrashPending(root string) bool {
	t, err := openTrash(root)
	if err != nil || t == nil {
		return false
	}
	defer t.Close()
	f, err := t.Open(".")
	if err != nil {
		return false
	}
	defer f.Close()
	names, _ := f.Readdirnames(1)
	return len(names) > 0
}

// EmptyTrash frees the files in the trash of the worktree at root. Two
// may run at once: a file the other freed is done.
func EmptyTrash(root string) error {
	t, err := openTrash(root)
	if err != nil || t == nil {
		return err
	}
	defer t.Close()
	f, err := t.Open(".")
	if err != nil {
		return err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range names {
		if err := t.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// openTrash opens the trash of the worktree at root (nil: there is
// none). A trash that is a symlink is refused: emptying it would remove
// the files of whatever it points at.
func openTrash(root string) (*os.Root, error) {
	dir := TrashPath(root)
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, err
	case !fi.IsDir():
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	return os.OpenRoot(dir)
}
