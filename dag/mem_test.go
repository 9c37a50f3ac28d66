package dag

import (
	"context"
	"fmt"
	"sync"
)

// memStore is an in-memory Getter/Putter that counts reads and writes, for
// testing the pure algorithms of this package.
type memStore struct {
	mu      sync.Mutex
	objs    map[ID][]byte
	reads   int
	puts    int
	newByte int
}

func newMem() *memStore { return &memStore{objs: map[ID][]byte{}} }

func (m *memStore) Put(_ context.Context, k Kind, b []byte) (ID, error) {
	id := Hash(k, b)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.puts++
	if _, ok := m.objs[id]; !ok {
		m.objs[id] = append([]byte(nil), b...)
		m.newByte += len(b)
	}
	return id, nil
}

func (m *memStore) Get(_ context.Context, k Kind, id ID) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	b, ok := m.objs[id]
	if !ok {
		return nil, fmt.Errorf("object %s: %w", id.Short(), ErrNotFound)
	}
	if Hash(k, b) != id {
		return nil, fmt.Errorf("object %s is not a %s", id.Short(), k)
	}
	return b, nil
}

func (m *memStore) resetCounts() { m.reads, m.puts, m.newByte = 0, 0, 0 }
