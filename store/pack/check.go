package pack

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/zeebo/blake3"

	"github.com/dxdata/dx/dag"
)

// Checker verifies a pack streamed through it, in order, without holding
// more of it than its largest object: the header, every object (decoded
// and hashed against its id, as a fetch checks it), the footer (which must
// be the index the pack was announced with), the trailer, and the BLAKE3
// of the whole file against the pack's name. Write reports the first
// mismatch; the write that completes the pack also checks the name, so a
// consumer that stops at the first error never takes a bad pack as whole.
type Checker struct {
	id      dag.ID
	footer  []byte
	entries []Entry
	size    int64
	// OnObject, if set, is called with each object's decoded bytes
	// once they are verified; raw is reused after the call.
	OnObject func(e Entry, raw []byte) error
	// Workers, if over 1 (and OnObject is nil), is how many objects are
	// decoded and hashed at once, off the writer's goroutine, so that a
	// stream is not held up by its checking; the write that completes
	// the pack waits for them all, so a mismatch is still reported
	// before the pack is whole.
	Workers int
	async   *asyncCheck

	h       *blake3.Hasher
	off     int64  // bytes seen
	next    int    // index of the entry being read
	blob    []byte // stored bytes of that entry read so far
	scratch []byte
	tail    []byte // header, then footer and trailer bytes as they come
	done    bool
}

// NewChecker checks a pack named id whose index (footer) is footer.
func NewChecker(id dag.ID, footer []byte) (*Checker, error) {
	entries, err := DecodeIndex(footer)
	if err != nil {
		return nil, err
	}
	size := int64(blobEnd(entries)) + int64(len(footer)) + TrailerSize
	return &Checker{id: id, footer: footer, entries: entries, size: size, h: blake3.New()}, nil
}

// Size is the length the pack must have.
func (c *Checker) Size() int64 { return c.size }

// Entries are the pack's objects in order. Do not modify.
func (c *Checker) Entries() []Entry { return c.entries }

// Complete reports whether every byte arrived and checked out.
func (c *Checker) Complete() bool { return c.done }

// Write takes the next bytes of the pack.
func (c *Checker) Write(p []byte) (int, error) {
	n := len(p)
	if int64(n) > c.size-c.off {
		return 0, corrupt("pack %s is longer than its index says (%d bytes)", c.id.Short(), c.size)
	}
	if c.async != nil {
		if err := c.async.failed(); err != nil {
			return 0, err
		}
	}
	_, _ = c.h.Write(p)
	for len(p) > 0 {
		var err error
		switch {
		case c.off < HeaderSize:
			p, err = c.header(p)
		case c.next < len(c.entries):
			p, err = c.object(p)
		default:
			c.tail = append(c.tail, p...)
			c.off += int64(len(p))
			p = nil
		}
		if err != nil {
			return 0, err
		}
	}
	if c.off == c.size {
		if err := c.finish(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

func (c *Checker) header(p []byte) ([]byte, error) {
	k := min(int64(len(p)), HeaderSize-c.off)
	c.tail = append(c.tail, p[:k]...)
	c.off += k
	if c.off == HeaderSize {
		if !bytes.Equal(c.tail, headerMagic) {
			return nil, corrupt("pack %s: bad header magic", c.id.Short())
		}
		c.tail = c.tail[:0]
	}
	return p[k:], nil
}

func (c *Checker) object(p []byte) ([]byte, error) {
	e := c.entries[c.next]
	k := min(len(p), int(e.Stored)-len(c.blob))
	c.blob = append(c.blob, p[:k]...)
	c.off += int64(k)
	if len(c.blob) < int(e.Stored) {
		return p[k:], nil
	}
	if c.Workers > 1 && c.OnObject == nil {
		if c.async == nil {
			c.async = newAsyncCheck(c.Workers)
		}
		c.async.check(c.next, e, c.id, c.blob)
		c.blob = c.blob[:0]
		c.next++
		return p[k:], nil
	}
	raw, err := checkObject(c.scratch[:0], e, c.id, c.blob)
	if err != nil {
		return nil, err
	}
	if c.OnObject != nil {
		if err := c.OnObject(e, raw); err != nil {
			return nil, err
		}
	}
	c.scratch = raw[:0]
	c.blob = c.blob[:0]
	c.next++
	return p[k:], nil
}

// checkObject decodes the stored bytes of object e of pack id into dst
// and checks them against its id.
func checkObject(dst []byte, e Entry, id dag.ID, stored []byte) ([]byte, error) {
	raw, err := Decompress(dst, stored, e.Codec, int(e.Raw))
	if err == nil && dag.Hash(e.Kind, raw) != e.ID {
		err = fmt.Errorf("content does not match its id")
	}
	if err != nil {
		return raw, corrupt("object %s in pack %s: %v", e.ID.Short(), id.Short(), err)
	}
	return raw, nil
}

// finish checks the objects checked aside, the footer, the trailer and
// the whole file's hash.
func (c *Checker) finish() error {
	if c.async != nil {
		if err := c.async.wait(); err != nil {
			return err
		}
	}
	if !bytes.Equal(c.tail[:len(c.footer)], c.footer) {
		return corrupt("pack %s: footer differs from its index", c.id.Short())
	}
	tr := c.tail[len(c.footer):]
	if binary.LittleEndian.Uint64(tr[0:]) != blobEnd(c.entries) ||
		binary.LittleEndian.Uint32(tr[8:]) != uint32(len(c.footer)) ||
		binary.LittleEndian.Uint32(tr[12:]) != uint32(len(c.entries)) ||
		blake3.Sum256(c.footer) != [32]byte(tr[16:48]) {
		return corrupt("pack %s: bad trailer", c.id.Short())
	}
	var got dag.ID
	c.h.Sum(got[:0])
	if got != c.id {
		return corrupt("pack %s: content does not match its name", c.id.Short())
	}
	c.done = true
	return nil
}

// asyncCheck checks objects on up to n goroutines at once; the first
// failure (in pack order) sticks.
type asyncCheck struct {
	sem  chan struct{}
	wg   sync.WaitGroup
	bufs sync.Pool

	mu    sync.Mutex
	err   error
	errAt int
}

func newAsyncCheck(n int) *asyncCheck {
	return &asyncCheck{sem: make(chan struct{}, n), errAt: -1}
}

// check checks object i (e, stored) of pack id aside, once fewer than n
// are being checked; stored is copied.
func (a *asyncCheck) check(i int, e Entry, id dag.ID, stored []byte) {
	a.sem <- struct{}{}
	a.wg.Add(1)
	b, _ := a.bufs.Get().(*[]byte)
	if b == nil {
		b = new([]byte)
	}
	*b = append((*b)[:0], stored...)
	go func() {
		defer func() {
			a.bufs.Put(b)
			<-a.sem
			a.wg.Done()
		}()
		scratch, _ := a.bufs.Get().(*[]byte)
		if scratch == nil {
			scratch = new([]byte)
		}
		raw, err := checkObject((*scratch)[:0], e, id, *b)
		*scratch = raw[:0]
		a.bufs.Put(scratch)
		if err != nil {
			a.mu.Lock()
			if a.errAt < 0 || i < a.errAt {
				a.err, a.errAt = err, i
			}
			a.mu.Unlock()
		}
	}()
}

// failed returns a failure found so far.
func (a *asyncCheck) failed() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// wait waits for every check and returns the first failure.
func (a *asyncCheck) wait() error {
	a.wg.Wait()
	return a.failed()
}
