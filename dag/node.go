package dag

import (
	"fmt"
	"sort"
)

// Mode is the kind of a tree entry. Values are persisted.
type Mode uint8

// Tree entry modes.
const (
	ModeFile    Mode = 1 // regular file; ID names a File
	ModeExec    Mode = 2 // executable regular file; ID names a File
	ModeDir     Mode = 3 // directory; ID names a Tree
	ModeSymlink Mode = 4 // symbolic link; ID names a File holding the target
)

func (m Mode) String() string {
	switch m {
	case ModeFile:
		return "file"
	case ModeExec:
		return "exec"
	case ModeDir:
		return "dir"
	case ModeSymlink:
		return "symlink"
	}
	return fmt.Sprintf("mode(%d)", uint8(m))
}

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool { return m >= ModeFile && m <= ModeSymlink }

// IsFile reports whether the entry holds file content (plain or executable).
func (m Mode) IsFile() bool { return m == ModeFile || m == ModeExec }

// ObjectKind is the kind of object an entry of this mode names.
func (m Mode) ObjectKind() Kind {
	if m == ModeDir {
		return KindTree
	}
	return KindFile
}

// ChunkRef is one entry of a File's leaf node: a chunk and its raw length.
type ChunkRef struct {
	ID  ID
	Len uint32
}

// ChildRef is one entry of an interior sequence node: a child node, the
// number of leaf entries beneath it and their total size in bytes. For tree
// sequences Last is the name of the last entry beneath it (for lookups).
type ChildRef struct {
	ID    ID
	Count uint64
	Size  uint64
	Last  string
}

// TreeEntry is one entry of a directory.
type TreeEntry struct {
	Name string
	Mode Mode
	ID   ID
	Size uint64 // file size, or total size of the files beneath a directory
}

// FileNode is one node of a File's Merkle sequence. Level 0 nodes hold
// Chunks; higher levels hold Children.
type FileNode struct {
	Level    int
	Chunks   []ChunkRef
	Children []ChildRef
}

// TreeNode is one node of a Tree's Merkle sequence. Level 0 nodes hold
// Entries, sorted by name; higher levels hold Children, sorted by Last.
type TreeNode struct {
	Level    int
	Entries  []TreeEntry
	Children []ChildRef
}

// Len is the number of entries or children in the node.
func (n *FileNode) Len() int {
	if n.Level == 0 {
		return len(n.Chunks)
	}
	return len(n.Children)
}

// Len is the number of entries or children in the node.
func (n *TreeNode) Len() int {
	if n.Level == 0 {
		return len(n.Entries)
	}
	return len(n.Children)
}

// Encode returns the canonical encoding of a file node:
//
//	version | level | count | level 0: (chunk id, uvarint len)… | level>0: (child id, uvarint count, uvarint size)…
func (n *FileNode) Encode() []byte {
	e := enc{b: make([]byte, 0, 8+n.Len()*(IDSize+6))}
	e.byte(FormatVersion)
	e.uvarint(uint64(n.Level))
	if n.Level == 0 {
		e.uvarint(uint64(len(n.Chunks)))
		for _, c := range n.Chunks {
			e.id(c.ID)
			e.uvarint(uint64(c.Len))
		}
	} else {
		e.uvarint(uint64(len(n.Children)))
		for _, c := range n.Children {
			e.id(c.ID)
			e.uvarint(c.Count)
			e.uvarint(c.Size)
		}
	}
	return e.b
}

// DecodeFileNode strictly decodes a file node.
func DecodeFileNode(b []byte) (*FileNode, error) {
	d := dec{b: b, kind: "file"}
	d.header()
	n := &FileNode{Level: int(d.uvarint(MaxLevel, "level"))}
	count := d.uvarint(MaxNodeEntries, "entry count")
	if d.err != nil {
		return nil, d.err
	}
	if n.Level > 0 && count == 0 {
		return nil, corrupt("file: empty interior node")
	}
	if uint64(len(d.b)) < count*(IDSize+1) {
		return nil, corrupt("file: truncated entries")
	}
	if n.Level == 0 {
		n.Chunks = make([]ChunkRef, count)
		for i := range n.Chunks {
			n.Chunks[i].ID = d.id()
			l := d.uvarint(MaxChunkLen, "chunk length")
			if d.err == nil && l == 0 {
				d.fail("zero-length chunk")
			}
			n.Chunks[i].Len = uint32(l)
		}
	} else {
		n.Children = make([]ChildRef, count)
		for i := range n.Children {
			c := &n.Children[i]
			c.ID = d.id()
			c.Count = d.uvarint(1<<48, "child count")
			c.Size = d.uvarint(1<<62, "child size")
			if d.err == nil && c.Count == 0 {
				d.fail("empty child")
			}
		}
	}
	if err := d.done(); err != nil {
		return nil, err
	}
	return n, nil
}

// Encode returns the canonical encoding of a tree node:
//
//	version | level | count | level 0: (name, mode, id, uvarint size)… | level>0: (child id, uvarint count, uvarint size, last name)…
//
// It returns an error if entries are not valid, sorted and unique.
func (n *TreeNode) Encode() ([]byte, error) {
	if err := n.validate(); err != nil {
		return nil, err
	}
	e := enc{b: make([]byte, 0, 8+n.Len()*(IDSize+24))}
	e.byte(FormatVersion)
	e.uvarint(uint64(n.Level))
	if n.Level == 0 {
		e.uvarint(uint64(len(n.Entries)))
		for _, en := range n.Entries {
			e.str(en.Name)
			e.byte(byte(en.Mode))
			e.id(en.ID)
			e.uvarint(en.Size)
		}
	} else {
		e.uvarint(uint64(len(n.Children)))
		for _, c := range n.Children {
			e.id(c.ID)
			e.uvarint(c.Count)
			e.uvarint(c.Size)
			e.str(c.Last)
		}
	}
	return e.b, nil
}

func (n *TreeNode) validate() error {
	if n.Level < 0 || n.Level > MaxLevel {
		return fmt.Errorf("dag: tree node level %d out of range", n.Level)
	}
	if n.Len() > MaxNodeEntries {
		return fmt.Errorf("dag: tree node has %d entries, limit %d", n.Len(), MaxNodeEntries)
	}
	prev := ""
	for i := 0; i < n.Len(); i++ {
		var name string
		if n.Level == 0 {
			en := n.Entries[i]
			name = en.Name
			if !en.Mode.Valid() {
				return fmt.Errorf("dag: tree entry %q: invalid mode %d", name, en.Mode)
			}
		} else {
			name = n.Children[i].Last
			if n.Children[i].Count == 0 {
				return fmt.Errorf("dag: tree node: empty child")
			}
		}
		if err := ValidName(name); err != nil {
			return fmt.Errorf("dag: tree entry: %w", err)
		}
		if i > 0 && name <= prev {
			return fmt.Errorf("dag: tree entries not sorted and unique at %q", name)
		}
		prev = name
	}
	return nil
}

// DecodeTreeNode strictly decodes a tree node: names are valid path
// components, sorted and unique; modes and counts are valid.
func DecodeTreeNode(b []byte) (*TreeNode, error) {
	d := dec{b: b, kind: "tree"}
	d.header()
	n := &TreeNode{Level: int(d.uvarint(MaxLevel, "level"))}
	count := d.uvarint(MaxNodeEntries, "entry count")
	if d.err != nil {
		return nil, d.err
	}
	if n.Level > 0 && count == 0 {
		return nil, corrupt("tree: empty interior node")
	}
	if uint64(len(d.b)) < count*(IDSize+3) {
		return nil, corrupt("tree: truncated entries")
	}
	prev := ""
	check := func(i int, name string) {
		if d.err != nil {
			return
		}
		if err := ValidName(name); err != nil {
			d.fail("entry %d: %v", i, err)
			return
		}
		if i > 0 && name <= prev {
			d.fail("entries not sorted and unique at %q", name)
		}
		prev = name
	}
	if n.Level == 0 {
		n.Entries = make([]TreeEntry, count)
		for i := range n.Entries {
			en := &n.Entries[i]
			en.Name = d.str(MaxNameLen, "name")
			en.Mode = Mode(d.byte())
			en.ID = d.id()
			en.Size = d.uvarint(1<<62, "size")
			if d.err == nil && !en.Mode.Valid() {
				d.fail("entry %q: invalid mode %d", en.Name, en.Mode)
			}
			check(i, en.Name)
		}
	} else {
		n.Children = make([]ChildRef, count)
		for i := range n.Children {
			c := &n.Children[i]
			c.ID = d.id()
			c.Count = d.uvarint(1<<48, "child count")
			c.Size = d.uvarint(1<<62, "child size")
			c.Last = d.str(MaxNameLen, "last name")
			if d.err == nil && c.Count == 0 {
				d.fail("empty child")
			}
			check(i, c.Last)
		}
	}
	if err := d.done(); err != nil {
		return nil, err
	}
	return n, nil
}

func sortStrings(s []string) { sort.Strings(s) }
