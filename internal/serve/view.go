package serve

import (
	"context"
	"sync"
	"time"

	"github.com/dxdata/dx/internal/repo"
)

// Opener opens a repository read-only.
type Opener func(ctx context.Context) (*repo.Repo, error)

// How long one view of a repository takes new requests, and how long new
// requests then wait after it closed before opening the next (see doc.go):
// a writer retries its lock every 50 ms, so the window holds two tries.
// An open left without users lingers viewLinger for the next request: a
// client's next request reuses it, and a writer waits that long at most
// after the last request.
const (
	maxViewAge   = time.Second
	writerWindow = 100 * time.Millisecond
	viewLinger   = 100 * time.Millisecond
)

// view shares one read-only open of a repository among the requests in
// flight, as doc.go describes.
type view struct {
	open Opener

	mu       sync.Mutex
	changed  *sync.Cond // signalled on mu when users drops to 0 or r closes
	r        *repo.Repo // nil while closed
	opened   time.Time
	users    int
	retired  bool      // r takes no new users
	reopenAt time.Time // no open before this (the writer's window)
	opens    int64     // how many times the repository was opened
	// failed is when the last open failed, with failure: requests that
	// were waiting meanwhile share its error rather than each wait for
	// the lock again.
	failed  time.Time
	failure error
	// idleGen numbers the lingering of an open without users; the timer
	// closes it only if no user came meanwhile.
	idleGen uint64
}

func newView(open Opener) *view {
	v := &view{open: open}
	v.changed = sync.NewCond(&v.mu)
	return v
}

// acquire returns the open repository, opening it if need be; release
// must be called when the caller's reads are done.
func (v *view) acquire(ctx context.Context) (*repo.Repo, error) {
	asked := time.Now()
	v.mu.Lock()
	for {
		if v.failed.After(asked) {
			err := v.failure
			v.mu.Unlock()
			return nil, err
		}
		if v.r != nil && !v.retired && time.Since(v.opened) < maxViewAge {
			v.users++
			v.idleGen++ // a lingering open is in use again
			r := v.r
			v.mu.Unlock()
			return r, nil
		}
		if v.r != nil && v.users == 0 { // lingering, too old to take more
			v.closeLocked(true)
			continue
		}
		if v.r != nil {
			// Retired: wait for its users to finish and close it.
			v.retired = true
			if err := waitCond(ctx, v.changed); err != nil {
				v.mu.Unlock()
				return nil, err
			}
			continue
		}
		if wait := time.Until(v.reopenAt); wait > 0 {
			v.mu.Unlock()
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			v.mu.Lock()
			continue
		}
		break
	}
	// Opening may wait for a writer's lock: others wait on mu meanwhile,
	// which is what they would do anyway.
	r, err := v.open(ctx)
	if err != nil {
		if ctx.Err() == nil {
			v.failed, v.failure = time.Now(), err
		}
		v.mu.Unlock()
		return nil, err
	}
	v.opens++
	v.r, v.opened, v.retired, v.users = r, time.Now(), false, 1
	v.mu.Unlock()
	return r, nil
}

// retain adds a user to the open repository that a caller holds already
// (between its acquire and release), for reads that outlive the caller's;
// each retain needs a release.
func (v *view) retain() {
	v.mu.Lock()
	v.users++
	v.mu.Unlock()
}

// release ends one user's reads. The last user closes the repository
// if it has been open for maxViewAge or retired; otherwise it lingers.
func (v *view) release() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.users--
	if v.users > 0 {
		return
	}
	if v.retired || time.Since(v.opened) >= maxViewAge {
		v.closeLocked(true)
		return
	}
	v.idleGen++
	gen := v.idleGen
	time.AfterFunc(viewLinger, func() {
		v.mu.Lock()
		defer v.mu.Unlock()
		if v.idleGen == gen && v.users == 0 && v.r != nil {
			v.closeLocked(false)
		}
	})
}

// closeLocked closes the open repository (mu held, no users); window
// makes new requests wait writerWindow before the next open.
func (v *view) closeLocked(window bool) {
	if window {
		v.reopenAt = time.Now().Add(writerWindow)
	}
	_ = v.r.Close()
	v.r, v.retired = nil, false
	v.changed.Broadcast()
}

// close closes a lingering open (when the server stops).
func (v *view) close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.r != nil && v.users == 0 {
		v.closeLocked(false)
	}
}

// waitCond waits on c (whose lock is held) until signalled or ctx ends.
func waitCond(ctx context.Context, c *sync.Cond) error {
	stop := context.AfterFunc(ctx, func() {
		c.L.Lock()
		c.Broadcast()
		c.L.Unlock()
	})
	defer stop()
	c.Wait()
	return ctx.Err()
}

// readView is a repository open for one request's reads.
type readView struct {
	r *repo.Repo
	b *bucket
}

// read runs fn under b's view, acquired for it and released after.
func (b *bucket) read(ctx context.Context, fn func(readView) *s3Error) *s3Error {
	r, err := b.view.acquire(ctx)
	if err != nil {
		return repoError(err)
	}
	defer b.view.release()
	return fn(readView{r, b})
}
