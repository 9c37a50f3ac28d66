package repo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// madeDirs remembers the directories prepareParents found in place; it is
// safe for concurrent use.
type madeDirs struct {
	mu  sync.Mutex
	set map[string]bool
}

func (m *madeDirs) has(d string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.set[d]
}

func (m *madeDirs) add(d string) {
	m.mu.Lock()
	m.set[d] = true
	m.mu.Unlock()
}

// checkPath rejects a path that could escape the worktree; tree decoding
// already guarantees this, so failing here means a bug or a hostile store.
func checkPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || path.Clean(p) != p {
		return fmt.Errorf("refusing unsafe path %q: %w", p, store.ErrCorrupt)
	}
	for _, c := range strings.Split(p, "/") {
		if err := dag.ValidName(c); err != nil {
			return fmt.Errorf("refusing unsafe path %q: %w", p, store.ErrCorrupt)
		}
	}
	return nil
}

// checkTmpPath rejects a journal's temporary name that is not one of
// dx's, in a safe directory.
func checkTmpPath(p string) error {
	dir, name := path.Split(p)
	if !strings.HasPrefix(name, tmpMarker) || strings.Contains(name, "/") {
		return fmt.Errorf("refusing temporary path %q: %w", p, store.ErrCorrupt)
	}
	if dir != "" {
		return checkPath(strings.TrimSuffix(dir, "/"))
	}
	return nil
}

// prepareParents creates the parent directories of p, refusing to go
// through a symlink and (with force) replacing files that stand in the
// way. made remembers directories already checked.
func prepareParents(root *os.Root, p string, force bool, made *madeDirs) error {
	parts := strings.Split(p, "/")
	cur := ""
	for _, c := range parts[:len(parts)-1] {
		if cur == "" {
			cur = c
		} else {
			cur += "/" + c
		}
		if made.has(cur) {
			continue
		}
		fi, err := root.Lstat(cur)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := root.Mkdir(cur, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("mkdir %s: %w", cur, err)
			}
			// Another writer may have raced us; re-check what is there.
			if fi, err = root.Lstat(cur); err != nil {
				return err
			}
			if !fi.IsDir() {
				return fmt.Errorf("refusing to write %s: %s is not a directory", p, cur)
			}
		case err != nil:
			return err
		case fi.IsDir():
		case force:
			if err := root.Remove(cur); err != nil {
				return fmt.Errorf("replace %s: %w", cur, err)
			}
			if err := root.Mkdir(cur, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
		case fi.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("refusing to write %s through the symlink %s", p, cur)
		default:
			return fmt.Errorf("refusing to write %s: %s is a file", p, cur)
		}
		made.add(cur)
	}
	return nil
}
