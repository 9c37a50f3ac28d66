package repo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

// State of a directory on the way to a new file, as makeDirs finds it.
const (
	dirThere   = iota + 1 // a directory
	dirMissing            // nothing there: made
	dirBlocked            // a file or a symlink the update replaces
)

// makeDirs makes, before any file is staged, the missing directories the
// plan's new files go in, so that each temporary is written beside its
// path and renamed within its directory: the file system serializes
// renames between directories, and thousands of temporaries in one
// directory contend for it. It first saves a journal that only undoes:
// killed meanwhile, the next command removes those directories, and
// this command's temporaries in them, so an update that never went
// ahead leaves no directory behind. A directory below a file or a
// symlink that the update replaces is not made here; its files are
// staged above it, as before.
func (r *Repo) makeDirs(root *os.Root, plan []planStep, made *madeDirs) ([]string, error) {
	state := map[string]int{".": dirThere}
	var missing []string
	for _, s := range plan {
		if s.entry == nil {
			continue
		}
		cur := "."
		for c := range strings.SplitSeq(path.Dir(s.path), "/") {
			if c == "." {
				break
			}
			next := path.Join(cur, c)
			if state[next] == 0 {
				switch fi, err := root.Lstat(next); {
				case state[cur] == dirMissing || errors.Is(err, fs.ErrNotExist):
					state[next] = dirMissing
					missing = append(missing, next)
				case err == nil && fi.IsDir():
					state[next] = dirThere
				default:
					state[next] = dirBlocked
				}
			}
			if state[next] == dirBlocked {
				break
			}
			cur = next
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	if err := r.saveJournal(&journal{Undo: true, Dirs: missing}); err != nil {
		return nil, errors.Join(err, r.dropJournal())
	}
	for i, d := range missing {
		err := root.Mkdir(d, 0o755)
		if errors.Is(err, fs.ErrExist) {
			if fi, lerr := root.Lstat(d); lerr == nil && fi.IsDir() {
				err = nil // made meanwhile by someone else: not ours to remove
				missing[i] = ""
			}
		}
		if err != nil {
			r.undoDirs(root, missing[:i])
			return nil, errors.Join(fmt.Errorf("mkdir %s: %w", d, err), r.dropJournal())
		}
		made.add(d)
	}
	return slices.DeleteFunc(missing, func(d string) bool { return d == "" }), nil
}

// undoDirs removes the directories an update made, deepest first, with
// this repository's temporaries in them; a directory that holds anything
// else stays.
func (r *Repo) undoDirs(root *os.Root, dirs []string) {
	dirs = slices.Clone(dirs)
	slices.SortStableFunc(dirs, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	for _, d := range dirs {
		if f, err := root.Open(d); err == nil {
			names, _ := f.Readdirnames(-1)
			f.Close()
			for _, n := range names {
				if strings.HasPrefix(n, r.tmpPrefix()) {
					_ = root.Remove(path.Join(d, n))
				}
			}
		}
		_ = root.Remove(d) // fails harmlessly when not empty
	}
}
