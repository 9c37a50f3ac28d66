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
// plan's new files go in, so that each file is written where it will be
// (or beside it) and moved within its directory: the file system
// serializes renames between directories, and thousands of temporaries
// in one directory contend for it. A missing directory whose parent is in
// place is made under a temporary name beside it, the missing ones below
// it inside that (newtrees.go). It first saves a journal that only undoes:
// killed meanwhile, the next command removes those temporary directories
// with all they hold, so an update that never went ahead leaves nothing
// behind. A directory below a file or a symlink that the update replaces
// is not made here; its files are staged above it, as before.
func (r *Repo) makeDirs(root *os.Root, plan []planStep) (*newTrees, error) {
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
	trees := &newTrees{tops: map[string]string{}}
	for _, d := range missing {
		if state[path.Dir(d)] == dirThere {
			trees.tops[d] = r.tmpName(d)
		}
	}
	if err := r.saveJournal(&journal{Undo: true, TmpDirs: trees.temporaries()}); err != nil {
		return nil, errors.Join(err, r.dropJournal())
	}
	// missing lists each directory after its parent.
	for _, d := range missing {
		at, ok := trees.tops[d]
		if !ok {
			at, _ = trees.place(d)
		}
		if err := root.Mkdir(at, 0o755); err != nil {
			trees.removeAll(root)
			return nil, errors.Join(fmt.Errorf("mkdir %s: %w", d, err), r.dropJournal())
		}
	}
	return trees, nil
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
