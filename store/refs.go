package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dgraph-io/badger/v4"

	"github.com/dxdata/dx/dag"
)

// Head is the value of HEAD: either symbolic (a ref name such as
// refs/heads/main, which may not exist yet) or a detached commit ID.
type Head struct {
	Ref string
	ID  dag.ID
}

// Detached reports whether HEAD names a commit directly.
func (h Head) Detached() bool { return h.Ref == "" }

// RefUpdate is one compare-and-swap of a ref: it applies only if the ref
// currently holds Old (ZeroID: the ref must not exist). New == ZeroID
// deletes the ref.
type RefUpdate struct {
	Name string
	Old  dag.ID
	New  dag.ID
}

// ValidRefName checks a ref name: slash-separated components under refs/,
// each a valid name that does not start with '.' or '-', no "..", valid
// UTF-8 with no whitespace or control characters (C1 too: names reach
// terminals), and none of ~^:?*[ or '\'.
func ValidRefName(name string) error {
	if !strings.HasPrefix(name, "refs/") {
		return fmt.Errorf("ref %q must start with refs/", name)
	}
	for _, c := range strings.Split(name, "/") {
		if err := ValidRefComponent(c); err != nil {
			return fmt.Errorf("ref %q: %w", name, err)
		}
	}
	return nil
}

// ValidRefComponent checks one component of a ref name (a branch or tag
// name may hold several, separated by '/').
func ValidRefComponent(c string) error {
	if c == "" || c[0] == '.' || c[0] == '-' || strings.HasSuffix(c, ".lock") || strings.Contains(c, "..") || c == "HEAD" || c == "@" {
		return fmt.Errorf("invalid name component %q", c)
	}
	if !utf8.ValidString(c) {
		return fmt.Errorf("name component %q is not valid UTF-8", c)
	}
	for _, r := range c {
		// unicode.IsControl: C0, DEL and C1 (U+009B is a terminal's CSI).
		if unicode.IsControl(r) || strings.ContainsRune(" ~^:?*[\\", r) {
			return fmt.Errorf("invalid character %q in %q", r, c)
		}
	}
	return nil
}

func refKey(name string) []byte { return append([]byte{pfxRef}, name...) }

// Ref returns the ID a ref points at.
func (s *Store) Ref(ctx context.Context, name string) (dag.ID, error) {
	var id dag.ID
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		id, err = getRef(txn, name)
		return err
	})
	return id, err
}

func getRef(txn *badger.Txn, name string) (dag.ID, error) {
	var id dag.ID
	it, err := txn.Get(refKey(name))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return id, fmt.Errorf("ref %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return id, fmt.Errorf("ref %s: %w", name, err)
	}
	err = it.Value(func(v []byte) error {
		if len(v) != dag.IDSize {
			return fmt.Errorf("ref %s: bad value: %w", name, ErrCorrupt)
		}
		copy(id[:], v)
		return nil
	})
	return id, err
}

// Refs lists refs whose names start with prefix, in name order.
func (s *Store) Refs(ctx context.Context, prefix string) (map[string]dag.ID, []string, error) {
	out := map[string]dag.ID{}
	var names []string
	err := s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix = refKey(prefix)
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			name := string(it.Item().Key()[1:])
			var id dag.ID
			if err := it.Item().Value(func(v []byte) error {
				if len(v) != dag.IDSize {
					return fmt.Errorf("ref %s: bad value: %w", name, ErrCorrupt)
				}
				copy(id[:], v)
				return nil
			}); err != nil {
				return err
			}
			out[name] = id
			names = append(names, name)
		}
		return nil
	})
	return out, names, err
}

// Head reads HEAD. A fresh store's HEAD is refs/heads/main.
func (s *Store) Head(ctx context.Context) (Head, error) {
	var h Head
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		h, err = getHead(txn)
		return err
	})
	return h, err
}

func getHead(txn *badger.Txn) (Head, error) {
	it, err := txn.Get([]byte{pfxHead})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return Head{Ref: "refs/heads/main"}, nil
	}
	if err != nil {
		return Head{}, err
	}
	var h Head
	err = it.Value(func(v []byte) error {
		s := string(v)
		if r, ok := strings.CutPrefix(s, "ref: "); ok {
			h.Ref = r
			return nil
		}
		id, err := dag.ParseID(s)
		if err != nil {
			return fmt.Errorf("HEAD: %w", ErrCorrupt)
		}
		h.ID = id
		return nil
	})
	return h, err
}

// ResolveHead returns the commit HEAD points at (ZeroID on an unborn branch)
// and the HEAD value.
func (s *Store) ResolveHead(ctx context.Context) (dag.ID, Head, error) {
	var id dag.ID
	var h Head
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		if h, err = getHead(txn); err != nil {
			return err
		}
		if h.Detached() {
			id = h.ID
			return nil
		}
		id, err = getRef(txn, h.Ref)
		if errors.Is(err, ErrNotFound) {
			id, err = dag.ZeroID, nil
		}
		return err
	})
	return id, h, err
}

// Transaction moves refs and HEAD atomically. Each update is a
// compare-and-swap; if any fails, nothing changes and the error wraps
// ErrRefChanged. head, if non-nil, replaces HEAD. Every object a ref is set
// to must already be stored (Flush first).
func (s *Store) Transaction(ctx context.Context, updates []RefUpdate, head *Head, message string) error {
	if err := s.writable("store: move refs"); err != nil {
		return err
	}
	for _, u := range updates {
		if err := ValidRefName(u.Name); err != nil {
			return err
		}
		if !u.New.IsZero() {
			if ok, err := s.Has(ctx, u.New); err != nil {
				return err
			} else if !ok {
				return fmt.Errorf("ref %s: target %s is not stored: %w", u.Name, u.New.Short(), ErrNotFound)
			}
		}
	}
	// Everything stored, and its packs in the journal, before the refs
	// that name it move.
	if err := s.Flush(ctx); err != nil {
		return err
	}
	now := time.Now().UTC()
	err := s.db.Update(func(txn *badger.Txn) error {
		for _, u := range updates {
			cur, err := getRef(txn, u.Name)
			if errors.Is(err, ErrNotFound) {
				cur, err = dag.ZeroID, nil
			}
			if err != nil {
				return err
			}
			if cur != u.Old {
				if u.Old.IsZero() {
					return fmt.Errorf("%s already exists: %w", u.Name, ErrRefChanged)
				}
				return fmt.Errorf("%s is at %s, expected %s: %w", u.Name, cur.Short(), u.Old.Short(), ErrRefChanged)
			}
			if u.New.IsZero() {
				if err := txn.Delete(refKey(u.Name)); err != nil {
					return err
				}
			} else if err := txn.Set(refKey(u.Name), u.New[:]); err != nil {
				return err
			}
			if err := appendLog(txn, u.Name, ReflogEntry{Old: cur, New: u.New, Time: now, Message: message}); err != nil {
				return err
			}
		}
		if head != nil {
			old, err := getHead(txn)
			if err != nil {
				return err
			}
			var v string
			if head.Detached() {
				v = head.ID.String()
			} else {
				if err := ValidRefName(head.Ref); err != nil {
					return err
				}
				v = "ref: " + head.Ref
			}
			// HEAD as it was (a checkout of the branch checked out) is not
			// written: a transaction that writes nothing leaves the index
			// nothing to flush when it closes.
			if old != *head {
				if err := txn.Set([]byte{pfxHead}, []byte(v)); err != nil {
					return err
				}
			}
			if head.Detached() || old.Detached() || old.Ref != head.Ref {
				if err := appendLog(txn, "HEAD", ReflogEntry{Old: old.ID, New: head.ID, Time: now, Message: message}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if errors.Is(err, badger.ErrConflict) {
		return fmt.Errorf("ref update: %w", ErrRefChanged)
	}
	if err != nil {
		return noSpace(err)
	}
	return s.syncIndex() // a ref that moved stays moved
}
