package serve

import (
	"errors"

	"github.com/dxdata/dx/dag"
)

// A file read in ranges gets no whole GET to fill its copy: the aws CLI
// and boto3 download a big object in parts, DuckDB and pandas read the
// parts they need. Once the ranges asked of a file, not served from a
// copy, add up to half its size, the file is hot: a fill of its copy
// runs in the background, decoding the file as a whole GET would and
// writing only the copy.

// maxRangedFiles bounds the files whose ranged bytes are counted; past
// it, the counts start over.
const maxRangedFiles = 4096

// rangedRead counts n bytes of a ranged GET of File id (size bytes)
// to be served from the store, and reports whether the file's ranges just
// reached half its size (its count then starts over). It is false when c
// is nil or would not keep the file.
func (c *fileCache) rangedRead(id dag.ID, n, size int64) bool {
	if c == nil || size < c.min || size > c.max {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	total, ok := c.ranged[id]
	if !ok && len(c.ranged) >= maxRangedFiles {
		clear(c.ranged)
	}
	if total += n; total < size/2 {
		c.ranged[id] = total
		return false
	}
	delete(c.ranged, id)
	return true
}

// errFillGivenUp stops a background fill whose copy takes no more bytes.
var errFillGivenUp = errors.New("the copy was given up")

// fillOnly writes a background fill's bytes to its copy alone.
type fillOnly struct{ fill *fileFill }

func (f fillOnly) Write(p []byte) (int, error) {
	if !f.fill.write(p) {
		return 0, errFillGivenUp
	}
	return len(p), nil
}

// fillInBackground fills the copy of File id, of size bytes, unless the
// cache will not take it: the file is located under a view of its own
// and decoded by batches as a whole GET's body would be (within the same
// read-ahead budget), until the server stops.
func (b *bucket) fillInBackground(id dag.ID, size int64) {
	s := b.srv
	s.bgMu.Lock()
	if s.bgStopped {
		s.bgMu.Unlock()
		return
	}
	s.fills.Add(1)
	s.bgMu.Unlock()
	fill := s.files.startFill(id, size)
	if fill == nil {
		s.fills.Done()
		return
	}
	go func() {
		defer s.fills.Done()
		defer fill.abandon()
		ctx := s.bg
		var bd *body
		e := b.read(ctx, func(rp readView) *s3Error {
			var err error
			if bd, err = b.rangeBody(ctx, rp.r, id, 0, size); err != nil {
				return repoError(err)
			}
			return nil
		})
		if e != nil {
			return // the file is gone (a gc), or the server stops
		}
		defer bd.close()
		_ = b.writeBody(ctx, fillOnly{fill}, bd, 0, size)
	}()
}

// stopFills stops the background fills, starts no more, and waits for
// them to end.
func (s *Server) stopFills() {
	s.bgMu.Lock()
	s.bgStopped = true
	s.bgMu.Unlock()
	s.stopBg()
	s.fills.Wait()
}
