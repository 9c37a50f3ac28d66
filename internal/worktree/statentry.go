package worktree

import (
	"encoding/binary"
	"fmt"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// StatEntry caches what a worktree file looked like when its content was
// last hashed. It is used only while every field still matches and the file
// was last modified before the entry was recorded, by the file system's
// clock (Stamp; git's racy-clean rule: any other file is hashed again).
type StatEntry struct {
	Size     int64
	MtimeNs  int64
	CtimeNs  int64
	Inode    uint64
	Mode     dag.Mode
	File     dag.ID
	Recorded int64 // unix ns when the entry was recorded
}

// RacyWindowNs: a file whose mtime is this close to (or after) Recorded
// may have changed within the file system's timestamp granularity, so its
// entry is not trusted. Entries recorded by the wall clock keep this
// margin; Stamp records the file system's clock plus it, which leaves none.
const RacyWindowNs = int64(20e6)

// Trusted reports whether the entry can stand for the file's content.
func (e StatEntry) Trusted() bool { return e.MtimeNs < e.Recorded-RacyWindowNs }

// Matches reports whether a fresh lstat result equals the cached one.
func (e StatEntry) Matches(o StatEntry) bool {
	return e.Size == o.Size && e.MtimeNs == o.MtimeNs && e.CtimeNs == o.CtimeNs && e.Inode == o.Inode && e.Mode == o.Mode
}

func (e StatEntry) encode() []byte { return e.appendTo(make([]byte, 0, 80)) }

// appendTo appends the entry's encoding to b.
func (e StatEntry) appendTo(b []byte) []byte {
	b = binary.AppendVarint(b, e.Size)
	b = binary.AppendVarint(b, e.MtimeNs)
	b = binary.AppendVarint(b, e.CtimeNs)
	b = binary.AppendUvarint(b, e.Inode)
	b = append(b, byte(e.Mode))
	b = append(b, e.File[:]...)
	return binary.AppendVarint(b, e.Recorded)
}

func decodeStat(b []byte) (StatEntry, error) {
	var e StatEntry
	var n int
	read := func(signed bool) int64 {
		if n < 0 {
			return 0
		}
		var v int64
		var k int
		if signed {
			v, k = binary.Varint(b)
		} else {
			var u uint64
			u, k = binary.Uvarint(b)
			v = int64(u)
		}
		if k <= 0 {
			n = -1
			return 0
		}
		b = b[k:]
		return v
	}
	e.Size = read(true)
	e.MtimeNs = read(true)
	e.CtimeNs = read(true)
	e.Inode = uint64(read(false))
	if n < 0 || len(b) < 1+dag.IDSize {
		return e, fmt.Errorf("stat entry: %w", store.ErrCorrupt)
	}
	e.Mode = dag.Mode(b[0])
	copy(e.File[:], b[1:])
	b = b[1+dag.IDSize:]
	e.Recorded = read(true)
	if n < 0 {
		return e, fmt.Errorf("stat entry: %w", store.ErrCorrupt)
	}
	return e, nil
}
