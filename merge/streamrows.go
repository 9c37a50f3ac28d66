package merge

import (
	"context"
	"fmt"
	"sync"
)

// Rows reads and parses the rows refs point to, as the RowChanges
// DiffRows would list for them. It reads the chunks that hold them,
// keeping the last few, so paging through a diff reads each chunk about
// once. Call it once Run has emitted (the headers are known then).
func (s *RowStream) Rows(ctx context.Context, refs []ChangeRef) ([]RowChange, error) {
	out := make([]RowChange, len(refs))
	for i, c := range refs {
		rc := RowChange{Kind: c.Kind()}
		var err error
		if c.OldLen > 0 {
			if rc.Old, err = s.row(ctx, 0, c.OldOff, c.OldLen); err != nil {
				return nil, sideErr(0, err)
			}
			rc.Key = rc.Old.Key
		}
		if c.NewLen > 0 {
			if rc.New, err = s.row(ctx, 1, c.NewOff, c.NewLen); err != nil {
				return nil, sideErr(1, err)
			}
			rc.Key = rc.New.Key
		}
		if rc.Kind == RowChanged {
			rc.Columns = changedColumns(rc.Old, rc.New)
		}
		out[i] = rc
	}
	return out, nil
}

// row parses the row at [off, off+n) of side k.
func (s *RowStream) row(ctx context.Context, k int, off int64, n uint32) (*Row, error) {
	side := s.d.sides[k]
	end := off + int64(n)
	first, last := side.chunkAt(off), side.chunkAt(end-1)
	if first < 0 || last < 0 {
		return nil, fmt.Errorf("row at %d-%d: past the file's end", off, end)
	}
	var data []byte
	for c := first; c <= last; c++ {
		b, err := s.chunks.get(ctx, side, k, c)
		if err != nil {
			return nil, err
		}
		lo, hi := max(off, side.offs[c])-side.offs[c], min(end, side.offs[c]+int64(len(b)))-side.offs[c]
		if first == last {
			data = b[lo:hi]
		} else {
			data = append(data, b[lo:hi]...)
		}
	}
	old, new := s.Headers()
	h := old
	if k == 1 {
		h = new
	}
	var row *Row
	err := s.d.table.Parse(h, data, true, func(r Row) error {
		if row != nil {
			return fmt.Errorf("row at %d: more than one row", off)
		}
		r.Off, r.End = off, end
		row = &r
		return nil
	})
	if err != nil {
		return nil, err
	}
	if row == nil {
		return nil, fmt.Errorf("row at %d: no row", off)
	}
	return row, nil
}

// chunkCache keeps the last chunks Rows read.
type chunkCache struct {
	mu      sync.Mutex
	entries []cachedChunk
}

type cachedChunk struct {
	k, i int
	data []byte
}

// chunksKept is how many chunks Rows keeps: a screen of rows spans a
// few (a line-mode chunk is at most 256 KiB).
const chunksKept = 8

func (c *chunkCache) get(ctx context.Context, s *side, k, i int) ([]byte, error) {
	c.mu.Lock()
	for _, e := range c.entries {
		if e.k == k && e.i == i {
			c.mu.Unlock()
			return e.data, nil
		}
	}
	c.mu.Unlock()
	b, err := s.src.AppendChunk(ctx, i, nil)
	if err != nil {
		return nil, err
	}
	if len(b) != int(s.chunks[i].Len) {
		return nil, fmt.Errorf("chunk %d: %d bytes, expected %d", i, len(b), s.chunks[i].Len)
	}
	c.mu.Lock()
	if len(c.entries) == chunksKept {
		c.entries = c.entries[1:]
	}
	c.entries = append(c.entries, cachedChunk{k, i, b})
	c.mu.Unlock()
	return b, nil
}
