package dag

import (
	"context"
	"encoding/binary"
	"fmt"
)

// Getter reads the verified encoding of one object. Implementations check
// that the bytes hash to id under kind.
type Getter interface {
	Get(ctx context.Context, kind Kind, id ID) ([]byte, error)
}

// Putter stores an encoded object and returns its ID. Storing an object
// that already exists is a cheap no-op.
type Putter interface {
	Put(ctx context.Context, kind Kind, data []byte) (ID, error)
}

// Sequence shape parameters. They are part of the format: changing them
// changes the IDs of big files and big directories.
const (
	// A leaf entry ends a node with probability 1/seqTarget, so nodes hold
	// seqTarget entries on average and at most seqMax.
	fileLeafTarget = 1024
	treeLeafTarget = 512
	interiorTarget = 256
	seqMax         = 8192
	treeNameSalt   = 0x9e3779b97f4a7c15
	treeLastSalt   = 0xc2b2ae3d27d4eb4f
	fileChildSalt  = 0x165667b19e3779f9
)

func mix64(x uint64) uint64 { // splitmix64 finalizer
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// nameHash is FNV-1a 64 of s, mixed with salt. Part of the format.
func nameHash(s string, salt uint64) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return mix64(h ^ salt)
}

func idHash(id ID, salt uint64) uint64 {
	return mix64(binary.LittleEndian.Uint64(id[:8]) ^ salt)
}

func hit(h uint64, target uint64) bool { return h%target == 0 }

// levelBuf accumulates the refs of one level of a sequence being built.
type levelBuf struct {
	refs    []ChildRef
	flushed int // nodes already emitted from this level
}

// seqBuilder turns a stream of leaf nodes into a balanced, content-defined
// tree of interior nodes. It is shared by files and trees.
type seqBuilder struct {
	levels   []levelBuf // levels[0] holds refs to leaf nodes (i.e. interior level 1's entries)
	boundary func(level int, r ChildRef) bool
	emit     func(level int, refs []ChildRef) (ID, error)
}

// add records a finished node at level-1 (level ≥ 1 is where its ref lives).
func (b *seqBuilder) add(level int, r ChildRef) error {
	for len(b.levels) < level {
		b.levels = append(b.levels, levelBuf{})
	}
	lb := &b.levels[level-1]
	lb.refs = append(lb.refs, r)
	if b.boundary(level, r) || len(lb.refs) >= seqMax {
		return b.flush(level)
	}
	return nil
}

func (b *seqBuilder) flush(level int) error {
	lb := &b.levels[level-1]
	if len(lb.refs) == 0 {
		return nil
	}
	id, err := b.emit(level, lb.refs)
	if err != nil {
		return err
	}
	r := ChildRef{ID: id, Last: lb.refs[len(lb.refs)-1].Last}
	for _, c := range lb.refs {
		r.Count += c.Count
		r.Size += c.Size
	}
	lb.refs = lb.refs[:0]
	lb.flushed++
	return b.add(level+1, r)
}

// finish flushes every level and returns the root ref. The root is the
// single node left at the top; a level holding exactly one ref and nothing
// emitted before it is that root.
func (b *seqBuilder) finish() (ChildRef, error) {
	for level := 1; level <= len(b.levels); level++ {
		lb := &b.levels[level-1]
		if lb.flushed == 0 && len(lb.refs) == 1 && level == len(b.levels) {
			return lb.refs[0], nil
		}
		if err := b.flush(level); err != nil {
			return ChildRef{}, err
		}
		if level > MaxLevel {
			return ChildRef{}, fmt.Errorf("dag: sequence deeper than %d levels", MaxLevel)
		}
	}
	return ChildRef{}, fmt.Errorf("dag: sequence builder has no root")
}

// FileBuilder builds the Merkle sequence of one file's chunk list.
type FileBuilder struct {
	ctx   context.Context
	p     Putter
	leaf  []ChunkRef
	seq   seqBuilder
	size  uint64
	count uint64
	nodes int
}

// NewFileBuilder returns a builder writing nodes through p.
func NewFileBuilder(ctx context.Context, p Putter) *FileBuilder {
	fb := &FileBuilder{ctx: ctx, p: p}
	fb.seq.boundary = func(level int, r ChildRef) bool {
		return hit(idHash(r.ID, fileChildSalt+uint64(level)), interiorTarget)
	}
	fb.seq.emit = func(level int, refs []ChildRef) (ID, error) {
		n := FileNode{Level: level, Children: refs}
		fb.nodes++
		return fb.p.Put(fb.ctx, KindFile, n.Encode())
	}
	return fb
}

// Add appends one chunk.
func (fb *FileBuilder) Add(c ChunkRef) error {
	if c.Len == 0 {
		return fmt.Errorf("dag: zero-length chunk")
	}
	fb.leaf = append(fb.leaf, c)
	fb.size += uint64(c.Len)
	fb.count++
	if hit(idHash(c.ID, 0), fileLeafTarget) || len(fb.leaf) >= seqMax {
		return fb.flushLeaf()
	}
	return nil
}

func (fb *FileBuilder) flushLeaf() error {
	n := FileNode{Chunks: fb.leaf}
	id, err := fb.p.Put(fb.ctx, KindFile, n.Encode())
	if err != nil {
		return err
	}
	fb.nodes++
	r := ChildRef{ID: id, Count: uint64(len(fb.leaf))}
	for _, c := range fb.leaf {
		r.Size += uint64(c.Len)
	}
	fb.leaf = fb.leaf[:0]
	return fb.seq.add(1, r)
}

// Finish writes the remaining nodes and returns the File's ID and size.
func (fb *FileBuilder) Finish() (ID, uint64, error) {
	if fb.count == 0 {
		n := FileNode{}
		id, err := fb.p.Put(fb.ctx, KindFile, n.Encode())
		return id, 0, err
	}
	if len(fb.leaf) > 0 {
		if err := fb.flushLeaf(); err != nil {
			return ZeroID, 0, err
		}
	}
	r, err := fb.seq.finish()
	if err != nil {
		return ZeroID, 0, err
	}
	return r.ID, fb.size, nil
}

// TreeBuilder builds the Merkle sequence of one directory. Entries must be
// added in strictly increasing name order.
type TreeBuilder struct {
	ctx   context.Context
	p     Putter
	leaf  []TreeEntry
	seq   seqBuilder
	size  uint64
	count uint64
	nodes int
	last  string
}

// NewTreeBuilder returns a builder writing nodes through p.
func NewTreeBuilder(ctx context.Context, p Putter) *TreeBuilder {
	tb := &TreeBuilder{ctx: ctx, p: p}
	tb.seq.boundary = func(level int, r ChildRef) bool {
		return hit(nameHash(r.Last, treeLastSalt+uint64(level)), interiorTarget)
	}
	tb.seq.emit = func(level int, refs []ChildRef) (ID, error) {
		n := TreeNode{Level: level, Children: refs}
		b, err := n.Encode()
		if err != nil {
			return ZeroID, err
		}
		tb.nodes++
		return tb.p.Put(tb.ctx, KindTree, b)
	}
	return tb
}

// Add appends one entry.
func (tb *TreeBuilder) Add(e TreeEntry) error {
	if err := ValidName(e.Name); err != nil {
		return fmt.Errorf("dag: tree entry: %w", err)
	}
	if tb.count > 0 && e.Name <= tb.last {
		return fmt.Errorf("dag: tree entry %q added out of order after %q", e.Name, tb.last)
	}
	if !e.Mode.Valid() {
		return fmt.Errorf("dag: tree entry %q: invalid mode", e.Name)
	}
	tb.last = e.Name
	tb.leaf = append(tb.leaf, e)
	tb.size += e.Size
	tb.count++
	if hit(nameHash(e.Name, treeNameSalt), treeLeafTarget) || len(tb.leaf) >= seqMax {
		return tb.flushLeaf()
	}
	return nil
}

func (tb *TreeBuilder) flushLeaf() error {
	n := TreeNode{Entries: tb.leaf}
	b, err := n.Encode()
	if err != nil {
		return err
	}
	id, err := tb.p.Put(tb.ctx, KindTree, b)
	if err != nil {
		return err
	}
	tb.nodes++
	r := ChildRef{ID: id, Count: uint64(len(tb.leaf))}
	if len(tb.leaf) > 0 {
		r.Last = tb.leaf[len(tb.leaf)-1].Name
	}
	for _, e := range tb.leaf {
		r.Size += e.Size
	}
	tb.leaf = tb.leaf[:0]
	return tb.seq.add(1, r)
}

// Finish writes the remaining nodes and returns the Tree's ID, its total
// size in bytes (files beneath, recursively, as given by entry sizes) and
// its number of direct entries.
func (tb *TreeBuilder) Finish() (ID, uint64, error) {
	if tb.count == 0 {
		b, err := (&TreeNode{}).Encode()
		if err != nil {
			return ZeroID, 0, err
		}
		id, err := tb.p.Put(tb.ctx, KindTree, b)
		return id, 0, err
	}
	if len(tb.leaf) > 0 {
		if err := tb.flushLeaf(); err != nil {
			return ZeroID, 0, err
		}
	}
	r, err := tb.seq.finish()
	if err != nil {
		return ZeroID, 0, err
	}
	return r.ID, tb.size, nil
}

// Count is the number of entries added so far.
func (tb *TreeBuilder) Count() uint64 { return tb.count }
