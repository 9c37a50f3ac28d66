package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dxdata/dx/dag"
)

// The pack cache keeps pack files open for reading, shared by readers.

func (s *Store) packPath(id dag.ID) string {
	return filepath.Join(s.dir, packsDir, id.String()+".pack")
}

// packHandle is an open pack file shared by readers. An evicted handle is
// closed when its last reader releases it, never under a reader.
type packHandle struct {
	f       *os.File
	refs    int
	evicted bool
}

// maxOpenPacks bounds the pack files kept open for reading.
const maxOpenPacks = 256

// packFile opens (or reuses) a pack for reading. Call release when done.
func (s *Store) packFile(id dag.ID) (f *os.File, release func(), err error) {
	s.packHandlesMu.Lock()
	defer s.packHandlesMu.Unlock()
	h, ok := s.packHandles[id]
	if !ok {
		if len(s.packHandles) >= maxOpenPacks {
			for k, old := range s.packHandles {
				s.evictLocked(k, old)
				break
			}
		}
		of, err := os.Open(s.packPath(id))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, nil, fmt.Errorf("pack %s is missing: %w", id.Short(), ErrCorrupt)
			}
			return nil, nil, err
		}
		h = &packHandle{f: of}
		s.packHandles[id] = h
	}
	h.refs++
	return h.f, func() {
		s.packHandlesMu.Lock()
		defer s.packHandlesMu.Unlock()
		h.refs--
		if h.evicted && h.refs == 0 {
			h.f.Close()
		}
	}, nil
}

// evictLocked drops a handle from the cache, closing it now if unused.
// The caller holds packHandlesMu.
func (s *Store) evictLocked(id dag.ID, h *packHandle) {
	delete(s.packHandles, id)
	h.evicted = true
	if h.refs == 0 {
		h.f.Close()
	}
}

// closePack evicts a pack's handle, if cached (before the pack is deleted).
func (s *Store) closePack(id dag.ID) {
	s.packHandlesMu.Lock()
	defer s.packHandlesMu.Unlock()
	if h, ok := s.packHandles[id]; ok {
		s.evictLocked(id, h)
	}
}

// closePacks evicts every cached pack handle.
func (s *Store) closePacks() {
	s.packHandlesMu.Lock()
	defer s.packHandlesMu.Unlock()
	for id, h := range s.packHandles {
		s.evictLocked(id, h)
	}
}
