package repo

import (
	"context"

	"github.com/dxdata/dx/remote"
)

// A fetch starts from a remote's heads, its refs and then its index
// (remote.ReadHeads): round trips that need nothing of the store. A
// command that will fetch names its remote when it opens the repository
// (Options.Dial), and the heads are read while the store opens. Reading
// them before the store's lock is held is safe: the remote's refs are a
// snapshot either way, the local refs still move by compare-and-swap, and
// the index cache's files are content-addressed and written by rename.

// Dial names the remote a command will fetch from ("" the default one).
type Dial struct {
	Remote string
}

// dial is a remote's heads, being read.
type dial struct {
	asked  string // the name asked for
	cancel context.CancelFunc
	done   chan struct{}
	name   string
	be     remote.Backend
	refs   []remote.Ref
	ix     *remote.Index
	err    error
}

// startDial starts reading the heads of remote name of the repository at
// root.
func startDial(ctx context.Context, root, name string) *dial {
	ctx, cancel := context.WithCancel(ctx)
	d := &dial{asked: name, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(d.done)
		d.name, d.be, d.refs, d.ix, d.err = readHeads(ctx, root, name)
	}()
	return d
}

// wait returns what readHeads returned.
func (d *dial) wait() (string, remote.Backend, []remote.Ref, *remote.Index, error) {
	<-d.done
	d.cancel()
	return d.name, d.be, d.refs, d.ix, d.err
}

// takeDial returns the heads read ahead of remote name, once; nil when
// none were (or they were taken, or of another remote).
func (r *Repo) takeDial(name string) *dial {
	d := r.dial.Load()
	if d == nil || d.asked != name || !r.dial.CompareAndSwap(d, nil) {
		return nil
	}
	return d
}

// stopDial stops heads no fetch took.
func (r *Repo) stopDial() {
	if d := r.dial.Swap(nil); d != nil {
		d.cancel()
	}
}
