package serve

import (
	"context"
	"runtime"
	"testing"

	"github.com/dxdata/dx/dag"
)

// TestChunkCacheBounded: the cache keeps at most its bytes, evicting the
// least recently used chunk first.
func TestChunkCacheBounded(t *testing.T) {
	c := newChunkCache(10)
	loads := 0
	get := func(n byte) {
		t.Helper()
		id := dag.ID{n}
		b, _, err := c.get(context.Background(), id, func(context.Context) ([]byte, error) {
			loads++
			return make([]byte, 4), nil
		})
		if err != nil || len(b) != 4 {
			t.Fatalf("get %d: %v", n, err)
		}
	}
	get(1)
	get(2)
	get(1) // 1 is now the most recent
	get(3) // 12 bytes: 2 goes
	if c.size > 10 || loads != 3 {
		t.Fatalf("size %d, %d loads", c.size, loads)
	}
	get(1)
	get(2)
	if loads != 4 {
		t.Fatalf("%d loads, want 4 (only 2 reloaded)", loads)
	}
}

// TestChunkCacheCanceledLoad: a request waiting for a chunk another
// request was loading does not inherit that request's cancellation.
func TestChunkCacheCanceledLoad(t *testing.T) {
	c := newChunkCache(1 << 20)
	id := dag.ID{7}
	started, proceed := make(chan struct{}), make(chan struct{})
	ctx1, cancel1 := context.WithCancel(context.Background())
	done1 := make(chan error)
	go func() {
		_, _, err := c.get(ctx1, id, func(ctx context.Context) ([]byte, error) {
			close(started)
			<-proceed
			return nil, ctx.Err()
		})
		done1 <- err
	}()
	<-started
	done2 := make(chan error)
	go func() {
		b, _, err := c.get(context.Background(), id, func(context.Context) ([]byte, error) { return []byte("ok"), nil })
		if err == nil && string(b) != "ok" {
			err = context.DeadlineExceeded
		}
		done2 <- err
	}()
	// Once the second request waits for the first one's load, the first
	// is canceled and its load fails.
	for {
		c.mu.Lock()
		waiting := c.inflight[id] != nil && c.inflight[id].waiters == 1
		c.mu.Unlock()
		if waiting {
			break
		}
		runtime.Gosched()
	}
	cancel1()
	close(proceed)
	if err := <-done1; err == nil {
		t.Fatal("the canceled load succeeded")
	}
	if err := <-done2; err != nil {
		t.Fatalf("the other request: %v", err)
	}
}
