package dag

import (
	"context"
	"errors"
)

// DiffFunc receives one difference: a is the old entry (nil when added), b
// the new one (nil when removed).
type DiffFunc func(path string, a, b *TreeEntry) error

// DiffDir compares two directories entry by entry (not recursively). Equal
// subtrees of the two sequences are skipped without being read, so the cost
// follows the size of the change.
func DiffDir(ctx context.Context, g Getter, a, b ID, fn func(a, b *TreeEntry) error) error {
	if a == b {
		return nil
	}
	ca, err := newTreeCursor(ctx, g, a)
	if err != nil {
		return err
	}
	cb, err := newTreeCursor(ctx, g, b)
	if err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch {
		case ca.done() && cb.done():
			return nil
		case ca.done():
			e, err := cb.next()
			if err != nil {
				return err
			}
			if err := fn(nil, e); err != nil {
				return err
			}
			continue
		case cb.done():
			e, err := ca.next()
			if err != nil {
				return err
			}
			if err := fn(e, nil); err != nil {
				return err
			}
			continue
		}
		ra, la, aRef := ca.ref()
		rb, lb, bRef := cb.ref()
		if aRef && bRef {
			if ra.ID == rb.ID {
				ca.advance()
				cb.advance()
				continue
			}
			var err error
			switch {
			case la > lb:
				err = ca.descend()
			case lb > la:
				err = cb.descend()
			default:
				if err = ca.descend(); err == nil {
					err = cb.descend()
				}
			}
			if err != nil {
				return err
			}
			continue
		}
		if aRef {
			if err := ca.descend(); err != nil {
				return err
			}
			continue
		}
		if bRef {
			if err := cb.descend(); err != nil {
				return err
			}
			continue
		}
		ea, eb := *ca.entry(), *cb.entry()
		switch {
		case ea.Name < eb.Name:
			ca.advance()
			err = fn(&ea, nil)
		case ea.Name > eb.Name:
			cb.advance()
			err = fn(nil, &eb)
		default:
			ca.advance()
			cb.advance()
			if ea.ID != eb.ID || ea.Mode != eb.Mode {
				err = fn(&ea, &eb)
			}
		}
		if err != nil {
			return err
		}
	}
}

// DiffTrees compares two trees recursively and reports file-level
// differences (files, executables and symlinks; never directories).
// Directories present on one side only are expanded into their files. A
// zero ID stands for an empty tree.
func DiffTrees(ctx context.Context, g Getter, a, b ID, fn DiffFunc) error {
	return diffTrees(ctx, g, a, b, "", fn)
}

func diffTrees(ctx context.Context, g Getter, a, b ID, prefix string, fn DiffFunc) error {
	if a == b {
		return nil
	}
	if a.IsZero() {
		return expand(ctx, g, b, prefix, false, fn)
	}
	if b.IsZero() {
		return expand(ctx, g, a, prefix, true, fn)
	}
	return DiffDir(ctx, g, a, b, func(ea, eb *TreeEntry) error {
		var name string
		if ea != nil {
			name = ea.Name
		} else {
			name = eb.Name
		}
		p := joinPath(prefix, name)
		aDir := ea != nil && ea.Mode == ModeDir
		bDir := eb != nil && eb.Mode == ModeDir
		switch {
		case aDir && bDir:
			return diffTrees(ctx, g, ea.ID, eb.ID, p, fn)
		case aDir:
			if err := expand(ctx, g, ea.ID, p, true, fn); err != nil {
				return err
			}
			if eb != nil {
				return fn(p, nil, eb)
			}
			return nil
		case bDir:
			if ea != nil {
				if err := fn(p, ea, nil); err != nil {
					return err
				}
			}
			return expand(ctx, g, eb.ID, p, false, fn)
		default:
			return fn(p, ea, eb)
		}
	})
}

func expand(ctx context.Context, g Getter, id ID, prefix string, removed bool, fn DiffFunc) error {
	return walkTree(ctx, g, id, prefix, func(p string, e TreeEntry) error {
		if e.Mode == ModeDir {
			return nil
		}
		if removed {
			return fn(p, &e, nil)
		}
		return fn(p, nil, &e)
	})
}

// ErrStop may be returned by callbacks to end a walk early without error.
var ErrStop = errors.New("stop")
