package store

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/dxdata/dx/dag"
)

// ResolvePrefix finds the unique object whose hex ID starts with prefix (at
// least 7 characters), optionally restricted to one kind.
func (s *Store) ResolvePrefix(ctx context.Context, prefix string, kind dag.Kind) (dag.ID, error) {
	if !dag.IsHexPrefix(prefix) {
		return dag.ZeroID, fmt.Errorf("%q: %w", prefix, dag.ErrBadID)
	}
	if len(prefix) == 2*dag.IDSize {
		id, err := dag.ParseID(prefix)
		if err != nil {
			return id, err
		}
		if ok, err := s.Has(ctx, id); err != nil || !ok {
			if err == nil {
				err = fmt.Errorf("object %s: %w", prefix, ErrNotFound)
			}
			return dag.ZeroID, err
		}
		return id, nil
	}
	even := prefix[:len(prefix)&^1]
	pb, _ := hex.DecodeString(even)
	var found []dag.ID
	err := s.objs.withPrefix(pb, func(id dag.ID, loc Location) bool {
		if len(prefix)%2 == 1 && hex.EncodeToString(id[:])[:len(prefix)] != toLower(prefix) {
			return true
		}
		if kind != dag.KindInvalid && loc.Kind != kind {
			return true
		}
		found = append(found, id)
		return len(found) < 2
	})
	if err != nil {
		return dag.ZeroID, fmt.Errorf("resolve %s: %w", prefix, err)
	}
	switch len(found) {
	case 0:
		return dag.ZeroID, fmt.Errorf("object %s: %w", prefix, ErrNotFound)
	case 1:
		return found[0], nil
	}
	return dag.ZeroID, fmt.Errorf("%s: %w", prefix, ErrAmbiguous)
}

// toLower lowers a hex string's letters.
func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'F' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
