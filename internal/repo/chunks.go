package repo

import (
	"context"

	"github.com/dxdata/dx/dag"
)

// ChunkCounts is how two versions of a file are stored: the chunks of
// each, and how many of the new one's the old one holds too (stored once).
type ChunkCounts struct {
	Old    int `json:"old"`
	New    int `json:"new"`
	Shared int `json:"shared"`
}

// CompareChunks counts the chunks of two versions of a file (nil: none
// on that side) from their file nodes, without reading the chunks.
func (r *Repo) CompareChunks(ctx context.Context, old, new *dag.TreeEntry) (ChunkCounts, error) {
	var out ChunkCounts
	oldChunks := map[dag.ID]bool{}
	err := r.fileChunks(ctx, old, func(id dag.ID) {
		out.Old++
		oldChunks[id] = true
	})
	if err != nil {
		return out, err
	}
	err = r.fileChunks(ctx, new, func(id dag.ID) {
		out.New++
		if oldChunks[id] {
			out.Shared++
		}
	})
	return out, err
}

// fileChunks calls fn with each chunk of a file entry, in order; a nil
// entry or a directory has none.
func (r *Repo) fileChunks(ctx context.Context, e *dag.TreeEntry, fn func(dag.ID)) error {
	if e == nil || e.Mode == dag.ModeDir {
		return nil
	}
	return dag.FileNodes(ctx, r.Store, e.ID, func(_ dag.ID, n *dag.FileNode) error {
		for _, c := range n.Chunks {
			fn(c.ID)
		}
		return nil
	})
}
