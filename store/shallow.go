package store

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/dgraph-io/badger/v4"

	"github.com/dxdata/dx/dag"
)

// The shallow commits of a store: commits fetched from a remote whose
// keep policy cut the history below them, so that their parents may be
// missing (as git's .git/shallow). A missing parent of one of them reads
// as dag.ErrShallow; any other missing object stays an error.

func shallowKey(id dag.ID) []byte { return append([]byte{pfxShallow}, id[:]...) }

// shallowCache holds the missing parents of the shallow commits, loaded
// on the first miss of a commit.
type shallowCache struct {
	mu     sync.Mutex
	loaded bool
	cut    map[dag.ID]dag.ID // missing parent → a shallow commit naming it
}

// Shallow returns the store's shallow commits.
func (s *Store) Shallow(ctx context.Context) (map[dag.ID]bool, error) {
	out := map[dag.ID]bool{}
	err := s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix = []byte{pfxShallow}
		o.PrefetchValues = false
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var id dag.ID
			copy(id[:], it.Item().Key()[1:])
			out[id] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("shallow commits: %w", err)
	}
	return out, nil
}

// AddShallow records commits as shallow (a fetch does, for the commits
// whose parents it found cut on the remote).
func (s *Store) AddShallow(ctx context.Context, ids []dag.ID) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.db.Update(func(txn *badger.Txn) error {
		for _, id := range ids {
			if err := txn.Set(shallowKey(id), nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		// Durable before a ref names the commits: synced now, while the
		// memtable that holds them is the active one (see journal.go).
		err = s.syncIndex()
	}
	if err != nil {
		return fmt.Errorf("shallow commits: %w", err)
	}
	s.shallow.mu.Lock()
	s.shallow.loaded = false
	s.shallow.mu.Unlock()
	return nil
}

// cutBy returns the shallow commit whose missing parent id is, if any.
func (s *Store) cutBy(ctx context.Context, id dag.ID) (dag.ID, bool) {
	s.shallow.mu.Lock()
	defer s.shallow.mu.Unlock()
	if !s.shallow.loaded {
		ids, err := s.Shallow(ctx)
		if err != nil {
			return dag.ID{}, false
		}
		cut := map[dag.ID]dag.ID{}
		for c := range ids {
			// A shallow commit gc removed since names nothing (and
			// reading it would come back here).
			if ok, err := s.Has(ctx, c); err != nil || !ok {
				continue
			}
			cm, err := dag.LoadCommit(ctx, s, c)
			if err != nil {
				continue
			}
			for _, p := range cm.Parents {
				cut[p] = c
			}
		}
		s.shallow.cut, s.shallow.loaded = cut, true
	}
	c, ok := s.shallow.cut[id]
	return c, ok
}

// shallowMiss wraps the not-found error of commit id with dag.ErrShallow
// when it is a cut parent.
func (s *Store) shallowMiss(ctx context.Context, kind dag.Kind, id dag.ID, err error) error {
	if kind != dag.KindCommit || !errors.Is(err, ErrNotFound) {
		return err
	}
	if c, ok := s.cutBy(ctx, id); ok {
		return fmt.Errorf("commit %s, parent of %s: %w: %w", id.Short(), c.Short(), dag.ErrShallow, ErrNotFound)
	}
	return err
}
