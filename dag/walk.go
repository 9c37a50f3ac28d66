package dag

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrNotFound is returned when a path does not exist in a tree.
var ErrNotFound = errors.New("not found")

// SkipDir may be returned by a WalkFunc to skip a directory's contents.
var SkipDir = errors.New("skip this directory")

// LoadTreeNode reads and decodes one tree node.
func LoadTreeNode(ctx context.Context, g Getter, id ID) (*TreeNode, error) {
	b, err := g.Get(ctx, KindTree, id)
	if err != nil {
		return nil, err
	}
	n, err := DecodeTreeNode(b)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", id.Short(), err)
	}
	return n, nil
}

// LoadFileNode reads and decodes one file node.
func LoadFileNode(ctx context.Context, g Getter, id ID) (*FileNode, error) {
	b, err := g.Get(ctx, KindFile, id)
	if err != nil {
		return nil, err
	}
	n, err := DecodeFileNode(b)
	if err != nil {
		return nil, fmt.Errorf("file %s: %w", id.Short(), err)
	}
	return n, nil
}

// LoadCommit reads and decodes a commit.
func LoadCommit(ctx context.Context, g Getter, id ID) (*Commit, error) {
	b, err := g.Get(ctx, KindCommit, id)
	if err != nil {
		return nil, err
	}
	c, err := DecodeCommit(b)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", id.Short(), err)
	}
	return c, nil
}

// treeCursor walks the entries of one directory's sequence in name order,
// loading nodes lazily so that equal subtrees can be skipped unread.
type treeCursor struct {
	ctx   context.Context
	g     Getter
	stack []treeFrame
}

type treeFrame struct {
	n *TreeNode
	i int
}

func newTreeCursor(ctx context.Context, g Getter, root ID) (*treeCursor, error) {
	n, err := LoadTreeNode(ctx, g, root)
	if err != nil {
		return nil, err
	}
	c := &treeCursor{ctx: ctx, g: g}
	if n.Len() > 0 {
		c.stack = append(c.stack, treeFrame{n: n})
	}
	return c, nil
}

func (c *treeCursor) done() bool { return len(c.stack) == 0 }

func (c *treeCursor) top() *treeFrame { return &c.stack[len(c.stack)-1] }

// ref returns the unexpanded child the cursor stands at, if the top frame is
// an interior node.
func (c *treeCursor) ref() (ChildRef, int, bool) {
	t := c.top()
	if t.n.Level == 0 {
		return ChildRef{}, 0, false
	}
	return t.n.Children[t.i], t.n.Level, true
}

func (c *treeCursor) entry() *TreeEntry { t := c.top(); return &t.n.Entries[t.i] }

func (c *treeCursor) descend() error {
	r, level, _ := c.ref()
	n, err := LoadTreeNode(c.ctx, c.g, r.ID)
	if err != nil {
		return err
	}
	if n.Level != level-1 || n.Len() == 0 {
		return corrupt("tree %s: child at wrong level or empty", r.ID.Short())
	}
	c.stack = append(c.stack, treeFrame{n: n})
	return nil
}

// advance moves past the current entry or unexpanded child.
func (c *treeCursor) advance() {
	for len(c.stack) > 0 {
		t := c.top()
		t.i++
		if t.i < t.n.Len() {
			return
		}
		c.stack = c.stack[:len(c.stack)-1]
	}
}

// next returns the next leaf entry, descending as needed; nil at the end.
func (c *treeCursor) next() (*TreeEntry, error) {
	for !c.done() {
		if _, _, ok := c.ref(); ok {
			if err := c.descend(); err != nil {
				return nil, err
			}
			continue
		}
		e := *c.entry()
		c.advance()
		return &e, nil
	}
	return nil, nil
}

// ReadTree returns every entry of one directory (not recursive).
func ReadTree(ctx context.Context, g Getter, id ID) ([]TreeEntry, error) {
	c, err := newTreeCursor(ctx, g, id)
	if err != nil {
		return nil, err
	}
	var out []TreeEntry
	for {
		e, err := c.next()
		if err != nil || e == nil {
			return out, err
		}
		out = append(out, *e)
	}
}

// EachEntry calls fn for every entry of one directory in name order.
func EachEntry(ctx context.Context, g Getter, id ID, fn func(e TreeEntry) error) error {
	c, err := newTreeCursor(ctx, g, id)
	if err != nil {
		return err
	}
	for {
		e, err := c.next()
		if err != nil || e == nil {
			return err
		}
		if err := fn(*e); err != nil {
			return err
		}
	}
}

// WalkFunc is called for each entry with its slash-separated path.
type WalkFunc func(path string, e TreeEntry) error

// WalkTree calls fn for every entry beneath root, depth first in name
// order; directories before their contents. fn may return SkipDir.
func WalkTree(ctx context.Context, g Getter, root ID, fn WalkFunc) error {
	return walkTree(ctx, g, root, "", fn)
}

func walkTree(ctx context.Context, g Getter, id ID, prefix string, fn WalkFunc) error {
	return EachEntry(ctx, g, id, func(e TreeEntry) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := joinPath(prefix, e.Name)
		err := fn(p, e)
		if errors.Is(err, SkipDir) {
			return nil
		}
		if err != nil {
			return err
		}
		if e.Mode == ModeDir {
			return walkTree(ctx, g, e.ID, p, fn)
		}
		return nil
	})
}

func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "/" + name
}

// LookupEntry finds one name in a directory, reading only the nodes on the
// path to it.
func LookupEntry(ctx context.Context, g Getter, dir ID, name string) (TreeEntry, error) {
	id := dir
	for {
		n, err := LoadTreeNode(ctx, g, id)
		if err != nil {
			return TreeEntry{}, err
		}
		if n.Level == 0 {
			i := sort.Search(len(n.Entries), func(i int) bool { return n.Entries[i].Name >= name })
			if i < len(n.Entries) && n.Entries[i].Name == name {
				return n.Entries[i], nil
			}
			return TreeEntry{}, fmt.Errorf("%q: %w", name, ErrNotFound)
		}
		i := sort.Search(len(n.Children), func(i int) bool { return n.Children[i].Last >= name })
		if i == len(n.Children) {
			return TreeEntry{}, fmt.Errorf("%q: %w", name, ErrNotFound)
		}
		id = n.Children[i].ID
	}
}

// LookupPath resolves a slash-separated path beneath root. The empty path
// names root itself (as a directory entry).
func LookupPath(ctx context.Context, g Getter, root ID, path string) (TreeEntry, error) {
	e := TreeEntry{Mode: ModeDir, ID: root}
	path = strings.Trim(path, "/")
	if path == "" {
		return e, nil
	}
	for _, name := range strings.Split(path, "/") {
		if e.Mode != ModeDir {
			return TreeEntry{}, fmt.Errorf("%q: %w", path, ErrNotFound)
		}
		next, err := LookupEntry(ctx, g, e.ID, name)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return TreeEntry{}, fmt.Errorf("%q: %w", path, ErrNotFound)
			}
			return TreeEntry{}, err
		}
		e = next
	}
	return e, nil
}

// WalkFile calls fn for each chunk of a file, in order.
func WalkFile(ctx context.Context, g Getter, id ID, fn func(c ChunkRef) error) error {
	n, err := LoadFileNode(ctx, g, id)
	if err != nil {
		return err
	}
	return WalkFileNode(ctx, g, n, fn)
}

// prefetcher is a Getter that can start reading objects ahead of their
// Gets (the store: read cold one after another, a file's nodes would
// each wait for the disk in turn).
type prefetcher interface {
	Prefetch(ctx context.Context, ids []ID)
}

// WalkFileNode is WalkFile from a node already loaded; a Getter that is
// a prefetcher is asked for a node's children together.
func WalkFileNode(ctx context.Context, g Getter, n *FileNode, fn func(c ChunkRef) error) error {
	if n.Level == 0 {
		for _, c := range n.Chunks {
			if err := fn(c); err != nil {
				return err
			}
		}
		return nil
	}
	if pf, ok := g.(prefetcher); ok && len(n.Children) > 1 {
		ids := make([]ID, len(n.Children))
		for i, ch := range n.Children {
			ids[i] = ch.ID
		}
		pf.Prefetch(ctx, ids)
	}
	for _, ch := range n.Children {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := WalkFile(ctx, g, ch.ID, fn); err != nil {
			return err
		}
	}
	return nil
}

// FileNodes calls fn with the ID of every node of a file's sequence
// (interior and leaf), for reachability walks. Chunks are not visited.
func FileNodes(ctx context.Context, g Getter, id ID, fn func(id ID, n *FileNode) error) error {
	n, err := LoadFileNode(ctx, g, id)
	if err != nil {
		return err
	}
	if err := fn(id, n); err != nil {
		return err
	}
	for _, ch := range n.Children {
		if err := FileNodes(ctx, g, ch.ID, fn); err != nil {
			return err
		}
	}
	return nil
}

// IsAncestor reports whether commit a is b or an ancestor of b, within
// the history a shallow repository holds (see ErrShallow). The walk
// back from b never goes below a's generation, so it costs the commits
// between them, not the whole history.
func IsAncestor(ctx context.Context, g Getter, a, b ID) (bool, error) {
	ok, _, err := Descends(ctx, g, a, b)
	return ok, err
}

// Descends is IsAncestor, and when a is not found, whether the walk met
// a cut (ErrShallow) that a could lie beyond: then nobody can tell.
func Descends(ctx context.Context, g Getter, a, b ID) (ok, cut bool, err error) {
	if a == b {
		return true, false, nil
	}
	ac, err := LoadCommit(ctx, g, a)
	if err != nil {
		return false, false, err
	}
	seen := map[ID]bool{b: true}
	stack := []ID{b}
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return false, cut, err
		}
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		c, err := LoadCommit(ctx, g, id)
		if err != nil {
			return false, cut, err
		}
		for _, p := range c.Parents {
			if p == a {
				return true, false, nil
			}
			if seen[p] {
				continue
			}
			seen[p] = true
			pc, err := LoadCommit(ctx, g, p)
			if errors.Is(err, ErrShallow) {
				cut = cut || c.Generation > ac.Generation+1 // a may lie below
				continue
			}
			if err != nil {
				return false, cut, err
			}
			if pc.Generation > ac.Generation {
				stack = append(stack, p)
			}
		}
	}
	return false, cut, nil
}
