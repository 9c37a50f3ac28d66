package repo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// LocalChangesError lists the paths whose local changes a checkout would
// overwrite. It wraps ErrLocalChanges.
type LocalChangesError struct{ Paths []string }

func (e *LocalChangesError) Error() string {
	return fmt.Sprintf("local changes to %s would be overwritten (commit them, or use --force to discard them)", listPaths(e.Paths))
}

func (e *LocalChangesError) Unwrap() error { return ErrLocalChanges }

// ErrNotWritable: a file or directory a worktree update must change is
// immutable or append-only.
var ErrNotWritable = errors.New("cannot be changed")

// NotWritableError lists the paths a worktree update cannot change; it
// refused before writing anything. It wraps ErrNotWritable.
type NotWritableError struct{ Paths []string }

func (e *NotWritableError) Error() string {
	return fmt.Sprintf("%s %s immutable or append-only (chattr -i/-a to allow it); nothing was changed", listPaths(e.Paths), isAre(len(e.Paths)))
}

func (e *NotWritableError) Unwrap() error { return ErrNotWritable }

// UntrackedError lists untracked (or ignored) files a worktree update
// would overwrite or remove. It wraps ErrLocalChanges.
type UntrackedError struct{ Paths []string }

func (e *UntrackedError) Error() string {
	return fmt.Sprintf("untracked or ignored files would be overwritten or removed: %s (move them away, or use --force to replace them); nothing was changed", listPaths(e.Paths))
}

func (e *UntrackedError) Unwrap() error { return ErrLocalChanges }

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// listPaths names up to ten paths.
func listPaths(p []string) string {
	const show = 10
	more := ""
	if len(p) > show {
		more = fmt.Sprintf(" and %d more", len(p)-show)
		p = p[:show]
	}
	return strings.Join(p, ", ") + more
}

// fileAttr is what a worktree update needs to know of a path.
type fileAttr struct {
	exists, dir bool
	// fixed: immutable or append-only; it cannot be replaced or removed,
	// nor (a directory) have entries added or removed.
	fixed bool
}

// checkObstacles decides, before a worktree update writes anything, what
// would make it fail half-way: a file it replaces or removes (or the
// directory holding it) that cannot be changed; and, without force, an
// untracked or ignored file where a file goes, inside a directory a file
// replaces, or where a directory goes. It marks the steps whose path
// holds nothing (absent).
func checkObstacles(rootDir string, plan []planStep, force bool) error {
	attrs := map[string]fileAttr{}
	look := func(p string) (fileAttr, error) {
		if a, ok := attrs[p]; ok {
			return a, nil
		}
		if d := path.Dir(p); d != "." {
			if da, ok := attrs[d]; ok && !da.exists {
				// Nothing in a directory that is not there (a
				// checkout into an empty worktree): no lstat.
				attrs[p] = fileAttr{}
				return fileAttr{}, nil
			}
		}
		a, err := lstatAttr(filepath.Join(rootDir, filepath.FromSlash(p)))
		if err != nil {
			return a, fmt.Errorf("%s: %w", p, err)
		}
		attrs[p] = a
		return a, nil
	}
	removed := map[string]bool{}
	for _, s := range plan {
		if s.entry == nil {
			removed[s.path] = true
		}
	}
	var fixed, inWay []string
	for i, s := range plan {
		// The directory first: a path in one that is not there is not
		// looked at.
		if d := path.Dir(s.path); d != "." {
			if da, err := look(d); err != nil {
				return err
			} else if da.exists && da.fixed {
				fixed = append(fixed, d)
			}
		}
		a, err := look(s.path)
		if err != nil {
			return err
		}
		plan[i].absent = !a.exists
		if a.exists && a.fixed {
			fixed = append(fixed, s.path)
		}
		if s.entry == nil || force {
			continue
		}
		switch {
		case !a.exists:
		case a.dir:
			// A file replaces a directory: all in it must be removed.
			err := fs.WalkDir(os.DirFS(rootDir), s.path, func(q string, de fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !de.IsDir() && !removed[q] {
					inWay = append(inWay, q)
				}
				return nil
			})
			if err != nil {
				return err
			}
		case !s.tracked:
			inWay = append(inWay, s.path)
		}
		// A file (or symlink) where one of its directories goes.
		for _, d := range ancestors(s.path) {
			da, err := look(d)
			if err != nil {
				return err
			}
			if !da.exists || removed[d] {
				break
			}
			if !da.dir {
				inWay = append(inWay, d)
				break
			}
		}
	}
	if len(fixed) > 0 {
		return &NotWritableError{Paths: sortedUnique(fixed)}
	}
	if len(inWay) > 0 {
		return &UntrackedError{Paths: sortedUnique(inWay)}
	}
	return nil
}

// ancestors lists the directories above p, outermost first.
func ancestors(p string) []string {
	var out []string
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		out = append(out, d)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func sortedUnique(s []string) []string {
	sort.Strings(s)
	return dedupe(s)
}
