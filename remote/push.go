package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/progress"
	"github.com/dxdata/dx/store"
	"github.com/dxdata/dx/store/pack"
)

// Update asks Push to set a remote ref.
type Update struct {
	Name  string // full name: refs/heads/main, refs/tags/v1, refs/models/m, refs/stages/m/production
	New   dag.ID
	Kind  dag.Kind // of New: RefKind(Name)
	Force bool     // allow a non-fast-forward update
}

// Options tune transfers.
type Options struct {
	Progress progress.Reporter
	// Parallel is the number of concurrent uploads or downloads; default
	// 4 (each pack upload is itself multipart in parallel parts).
	Parallel int
	// PackSize is the target size of pack objects; default 32 MiB.
	PackSize int64
	// Paths limits a fetch to file content under these paths (every
	// commit and tree still comes): a sparse fetch.
	Paths []string
	// Complete makes a fetch walk through metadata the local store has
	// instead of stopping there: needed when the store is sparse.
	Complete bool
	// Ahead, if set, is called by a fetch once every commit, tree and
	// File node is in, before the chunks are downloaded, with a Getter of
	// those and of the local store's objects (for this call only): a pull
	// starts writing the new versions' unchanged bytes meanwhile. It may
	// return a sink, which the fetch then calls with each chunk it
	// downloads, once verified, and its bytes (valid during the call
	// only), from several goroutines at once.
	Ahead func(ctx context.Context, get dag.Getter) (sink func(id dag.ID, raw []byte))
}

func (o Options) withDefaults() Options {
	if o.Progress == nil {
		o.Progress = progress.Nop{}
	}
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.PackSize <= 0 {
		o.PackSize = 32 << 20
	}
	return o
}

// RefResult says what happened to one ref.
type RefResult struct {
	Name string `json:"name"`
	Old  dag.ID `json:"old"`
	New  dag.ID `json:"new"`
	// Status: "created", "updated", "forced", "up-to-date", or
	// "rejected" (with Err).
	Status string `json:"status"`
	Err    error  `json:"-"`
}

// PushResult counts what a push sent.
type PushResult struct {
	Refs      []RefResult `json:"refs"`
	Objects   int         `json:"objects"`    // objects uploaded
	Chunks    int         `json:"chunks"`     // of which data chunks
	Packs     int         `json:"packs"`      // pack objects uploaded
	DataBytes int64       `json:"data_bytes"` // stored bytes of chunks uploaded
	MetaBytes int64       `json:"meta_bytes"` // stored bytes of metadata uploaded
	BytesSent int64       `json:"bytes_sent"` // everything written to the remote
}

// Push uploads what the remote lacks for the updates and then moves each
// remote ref by compare-and-swap. Objects go first (data packs, then
// metadata packs children first, each pack before its index), so the
// remote never names an object it does not hold; an interrupted push
// leaves only packs that a retry will not send again (their indexes are
// listed) or unindexed packs nothing names.
func Push(ctx context.Context, st *store.Store, be Backend, ix *Index, updates []Update, o Options) (*PushResult, error) {
	o = o.withDefaults()
	res := &PushResult{}
	// 1. Read the remote refs and check that each update is allowed.
	var todo []int
	res.Refs = make([]RefResult, len(updates))
	olds := make([]Ref, len(updates))
	for i, u := range updates {
		if err := store.ValidRefName(u.Name); err != nil {
			return nil, err
		}
		cur, err := ReadRef(ctx, be, u.Name)
		if err != nil {
			return nil, err
		}
		olds[i] = cur
		rr := RefResult{Name: u.Name, Old: cur.ID, New: u.New}
		switch {
		case cur.ID == u.New:
			rr.Status = "up-to-date"
		case cur.ID.IsZero():
			rr.Status = "created"
		case u.Force:
			rr.Status = "forced"
		default:
			ok, err := forward(ctx, st, u, cur.ID)
			if err != nil {
				return nil, err
			}
			if !ok {
				rr.Status = "rejected"
				rr.Err = fmt.Errorf("%s: %w", u.Name, ErrNonFastForward)
			} else {
				rr.Status = "updated"
			}
		}
		res.Refs[i] = rr
		if rr.Status != "up-to-date" && rr.Status != "rejected" {
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return res, rejected(res)
	}
	// 2. Find what the remote lacks.
	var roots []dag.Link
	for _, i := range todo {
		roots = append(roots, dag.Link{ID: updates[i].New, Kind: updates[i].Kind})
	}
	meta, chunks, chunkBytes, cut, err := missing(ctx, st, ix, roots)
	if err != nil {
		return nil, err
	}
	// 3. Upload: data, then metadata.
	bar := o.Progress.Start("push", chunkBytes, true)
	up := &uploader{st: st, be: be, ix: ix, o: o, res: res, bar: bar, free: make(chan *bytes.Buffer, o.Parallel+2)}
	err = up.packs(ctx, chunks, false)
	if err == nil {
		err = up.packs(ctx, meta, true)
	}
	bar.Done()
	res.BytesSent = up.sent.Load()
	res.Packs = int(up.npacks.Load())
	if err != nil {
		return res, err
	}
	// 4. Move the refs, after listing the commits whose history this
	// shallow store lacks among the remote's shallow commits.
	if err := ensureFormat(ctx, be); err != nil {
		return res, err
	}
	if err := AddShallow(ctx, be, cut); err != nil {
		return res, err
	}
	for _, i := range todo {
		u := updates[i]
		if err := ix.CheckWindow(ctx, be); err != nil {
			return res, err
		}
		_, err := be.Swap(ctx, u.Name, olds[i].Tag, encodeRef(u.New))
		res.BytesSent += int64(len(encodeRef(u.New)))
		if errors.Is(err, ErrPrecondition) {
			res.Refs[i].Status = "rejected"
			res.Refs[i].Err = fmt.Errorf("%s changed on the remote during the push: %w", u.Name, ErrNonFastForward)
			continue
		}
		if err != nil {
			return res, err
		}
		ev := Event{Ref: u.Name, Old: olds[i].ID, New: u.New, Time: time.Now().UTC()}
		if n, err := putEvent(ctx, be, ev); err == nil {
			res.BytesSent += n
		}
	}
	return res, rejected(res)
}

// rejected returns an error naming the rejected refs, if any.
func rejected(res *PushResult) error {
	var errs []error
	for _, r := range res.Refs {
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return fmt.Errorf("%d refs rejected: %w", len(errs), errors.Join(errs...))
}

// fastForward reports whether moving u.Name from old to u.New keeps old
// reachable. Tags never move without force; a remote commit we do not
// have cannot be checked, so it is not a fast-forward.
func fastForward(ctx context.Context, st *store.Store, u Update, old dag.ID) (bool, error) {
	if u.Kind != dag.KindCommit || isTag(u.Name) {
		if u.Kind == dag.KindModel {
			return ModelDescends(ctx, st, old, u.New)
		}
		return false, nil
	}
	if ok, err := st.Has(ctx, old); err != nil || !ok {
		return false, err
	}
	return dag.IsAncestor(ctx, st, old, u.New)
}

func isTag(name string) bool { return len(name) > 10 && name[:10] == "refs/tags/" }

// ModelDescends reports whether model version old is id or one of its
// previous versions, reading the versions from g (a version g lacks ends
// the chain).
func ModelDescends(ctx context.Context, g dag.Getter, old, id dag.ID) (bool, error) {
	for !id.IsZero() {
		if id == old {
			return true, nil
		}
		b, err := g.Get(ctx, dag.KindModel, id)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return false, nil
			}
			return false, err
		}
		m, err := dag.DecodeModel(b)
		if err != nil {
			return false, err
		}
		id = m.Previous
	}
	return false, nil
}

// missing walks from roots down to objects the remote has and returns the
// metadata objects it lacks, children before parents, the chunks it
// lacks in the order files name them, with their stored size, and the
// shallow commits whose parents the local store lacks (cut).
func missing(ctx context.Context, st *store.Store, ix *Index, roots []dag.Link) (meta, chunks []dag.ID, chunkBytes int64, cut []dag.ID, err error) {
	type frame struct {
		l        dag.Link
		by       dag.ID
		expanded bool
	}
	seen := map[dag.ID]bool{}
	var stack []frame
	for i := len(roots) - 1; i >= 0; i-- {
		stack = append(stack, frame{l: roots[i]})
	}
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, nil, 0, nil, err
		}
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if f.expanded {
			meta = append(meta, f.l.ID)
			continue
		}
		if seen[f.l.ID] || ix.Reusable(f.l.ID) {
			continue
		}
		seen[f.l.ID] = true
		if f.l.Kind == dag.KindChunk {
			loc, err := st.Locate(ctx, f.l.ID)
			if err != nil {
				return nil, nil, 0, nil, err
			}
			chunks = append(chunks, f.l.ID)
			chunkBytes += int64(loc.Stored)
			continue
		}
		b, err := st.Get(ctx, f.l.Kind, f.l.ID)
		if errors.Is(err, dag.ErrShallow) {
			if !slices.Contains(cut, f.by) {
				cut = append(cut, f.by)
			}
			continue
		}
		if err != nil {
			return nil, nil, 0, nil, err
		}
		links, err := dag.Links(f.l.Kind, b, true)
		if err != nil {
			return nil, nil, 0, nil, fmt.Errorf("object %s: %w", f.l.ID.Short(), err)
		}
		stack = append(stack, frame{l: f.l, expanded: true})
		for i := len(links) - 1; i >= 0; i-- {
			if !seen[links[i].ID] {
				stack = append(stack, frame{l: links[i], by: f.l.ID})
			}
		}
	}
	return meta, chunks, chunkBytes, cut, nil
}

// uploader packs objects and uploads the packs.
type uploader struct {
	st     *store.Store
	be     Backend
	ix     *Index
	o      Options
	res    *PushResult
	bar    progress.Bar
	sent   atomic.Int64
	npacks atomic.Int64
	free   chan *bytes.Buffer
}

type builtPack struct {
	buf *bytes.Buffer
	w   *pack.Writer
}

// getBuf returns a pack buffer: a recycled one when there is one, so that
// a long push holds a fixed number of pack buffers instead of leaving a
// trail of them to the garbage collector.
func (u *uploader) getBuf() *bytes.Buffer {
	select {
	case b := <-u.free:
		b.Reset()
		return b
	default:
		return bytes.NewBuffer(make([]byte, 0, u.o.PackSize+1<<20))
	}
}

func (u *uploader) putBuf(b *bytes.Buffer) {
	select {
	case u.free <- b:
	default:
	}
}

// packs uploads ids in packs of about PackSize. Data packs go up in
// parallel; metadata packs one after another in order, so that the remote
// indexes a metadata object only after everything it names.
func (u *uploader) packs(ctx context.Context, ids []dag.ID, meta bool) error {
	if len(ids) == 0 {
		return nil
	}
	workers := u.o.Parallel
	if meta {
		workers = 1
	}
	g, gctx := errgroup.WithContext(ctx)
	queue := make(chan *builtPack, 1)
	for range workers {
		g.Go(func() error {
			for p := range queue {
				err := u.upload(gctx, p, meta)
				u.putBuf(p.buf)
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(queue)
		var cur *builtPack
		send := func() error {
			if cur == nil {
				return nil
			}
			select {
			case queue <- cur:
			case <-gctx.Done():
				return gctx.Err()
			}
			cur = nil
			return nil
		}
		for _, id := range ids {
			o, err := u.st.ReadStored(gctx, id)
			if err != nil {
				return err
			}
			if cur == nil {
				buf := u.getBuf()
				w, err := pack.NewWriter(buf)
				if err != nil {
					return err
				}
				cur = &builtPack{buf: buf, w: w}
			}
			if _, err := cur.w.Add(o.ID, o.Kind, o.Codec, o.Stored, int(o.Raw)); err != nil {
				return err
			}
			if meta {
				u.res.MetaBytes += int64(len(o.Stored))
			} else {
				u.res.DataBytes += int64(len(o.Stored))
				u.res.Chunks++
			}
			u.res.Objects++
			if cur.w.Size() >= u.o.PackSize {
				if err := send(); err != nil {
					return err
				}
			}
		}
		return send()
	})
	return g.Wait()
}

// upload sends one pack and then its index.
func (u *uploader) upload(ctx context.Context, p *builtPack, meta bool) error {
	id, footer, err := p.w.Finish()
	if err != nil {
		return err
	}
	body := p.buf.Bytes()
	cr := &countingReader{Reader: bytes.NewReader(body), n: &u.sent}
	if !meta {
		cr.bar = u.bar
	}
	if err := u.be.Put(ctx, packKey(id), cr, int64(len(body))); err != nil {
		return fmt.Errorf("upload %s: %w", packKey(id), err)
	}
	if err := u.ix.CheckWindow(ctx, u.be, id); err != nil {
		return err
	}
	if err := u.be.Put(ctx, indexKey(id), &countingReader{Reader: bytes.NewReader(footer), n: &u.sent}, int64(len(footer))); err != nil {
		return fmt.Errorf("upload %s: %w", indexKey(id), err)
	}
	u.npacks.Add(1)
	return u.ix.record(id, footer, p.w.Entries())
}

// countingReader is a pack in memory that counts the bytes read from it
// (sent) and advances a progress bar by them. It keeps random access, so
// a backend can upload parts in parallel and retry them.
type countingReader struct {
	*bytes.Reader
	n   *atomic.Int64
	bar progress.Bar
}

func (c *countingReader) count(n int) {
	c.n.Add(int64(n))
	if c.bar != nil {
		c.bar.Add(int64(n))
	}
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.Reader.Read(b)
	c.count(n)
	return n, err
}

func (c *countingReader) ReadAt(b []byte, off int64) (int, error) {
	n, err := c.Reader.ReadAt(b, off)
	c.count(n)
	return n, err
}

// ensureFormat marks the remote as a dx remote of this format, or checks
// the mark.
func ensureFormat(ctx context.Context, be Backend) error {
	b, _, err := be.Get(ctx, formatKey, maxRefSize)
	if errors.Is(err, ErrNotExist) {
		_, err = be.Swap(ctx, formatKey, "", []byte(formatValue))
		if errors.Is(err, ErrPrecondition) {
			return ensureFormat(ctx, be)
		}
		return err
	}
	if err != nil {
		return err
	}
	return checkFormat(be, b)
}

func checkFormat(be Backend, b []byte) error {
	if string(b) != formatValue {
		return fmt.Errorf("%s: not a dx remote of this version (FORMAT is %q)", be, bytes.TrimSpace(b))
	}
	return nil
}

// Event is one entry of the remote's publish log: a ref moved.
type Event struct {
	Ref  string    `json:"ref"`
	Old  dag.ID    `json:"old"`
	New  dag.ID    `json:"new"`
	Time time.Time `json:"time"`
}

// putEvent appends an event under events/, named so that keys sort by
// time.
func putEvent(ctx context.Context, be Backend, ev Event) (int64, error) {
	b, err := json.Marshal(ev)
	if err != nil {
		return 0, err
	}
	var r [4]byte
	_, _ = rand.Read(r[:])
	key := fmt.Sprintf("%s-%s.json", EventKeyAt(ev.Time), hex.EncodeToString(r[:]))
	if err := be.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
		return 0, err
	}
	return int64(len(b)), nil
}

// EventKeyAt is the key every event written at t sorts after (and every
// event written before t sorts before): events/ and t in nanoseconds.
func EventKeyAt(t time.Time) string {
	return fmt.Sprintf("%s%020d", eventsPrefix, t.UnixNano())
}

// CheckFormat checks the remote's format mark, if it has one.
func CheckFormat(ctx context.Context, be Backend) error {
	b, _, err := be.Get(ctx, formatKey, maxRefSize)
	if errors.Is(err, ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return checkFormat(be, b)
}
