package repo

import (
	"errors"
	"fmt"
	"io"
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
	t, names, err := listTrash(root, 1)
	if t != nil {
		t.Close()
	}
	return err == nil && len(names) > 0
}

// EmptyTrash frees the files in the trash of the worktree at root. Two
// may run at once: a file the other freed is done.
func EmptyTrash(root string) error {
	t, names, err := listTrash(root, -1)
	if t == nil || err != nil {
		return err
	}
	defer t.Close()
	var errs []error
	for _, name := range names {
		if err := t.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// listTrash opens the trash of the worktree at root and reads up to n
// names in it (n < 0: all). The Root returned, unless nil (no trash),
// is the caller's to close, even with an error.
func listTrash(root string, n int) (*os.Root, []string, error) {
	t, err := openTrash(root)
	if t == nil || err != nil {
		return nil, nil, err
	}
	f, err := t.Open(".")
	if err != nil {
		return t, nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(n)
	if errors.Is(err, io.EOF) {
		err = nil // an empty trash, read for one name
	}
	return t, names, err
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
