package serve

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dxdata/dx/internal/repo"
)

// TestViewSharesAFailedOpen: requests queued behind an open that fails
// (a writer held the lock for the whole wait) get its error, instead of
// each waiting for the lock again in turn.
func TestViewSharesAFailedOpen(t *testing.T) {
	var opens atomic.Int32
	release := make(chan struct{})
	locked := errors.New("locked")
	v := newView(func(ctx context.Context) (*repo.Repo, error) {
		opens.Add(1)
		<-release
		return nil, locked
	})
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := v.acquire(context.Background())
			errs <- err
		}()
	}
	// Let them queue behind the open: a pause for the scheduler, far
	// longer than starting ten goroutines takes; the check below only
	// needs one of them queued.
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, locked) {
			t.Fatalf("acquire: %v", err)
		}
	}
	if n := opens.Load(); n >= 10 {
		t.Fatalf("10 queued requests opened %d times", n)
	}
}
