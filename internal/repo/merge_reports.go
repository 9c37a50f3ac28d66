package repo

import (
	"bytes"
	"context"
	"io"
	"path"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
	"github.com/dxdata/dx/store/chunker"
)

// storeReports stores the conflict report of each table whose rows
// conflict (written by internal/table), and returns the worktree steps
// that write them beside their tables and their paths. A merge stopped on
// conflicts writes them with the merged files, in one worktree update.
func (r *Repo) storeReports(ctx context.Context, attrs *table.Attributes, conflicts []merge.PathConflict) ([]planStep, []string, error) {
	var steps []planStep
	var paths []string
	for _, c := range conflicts {
		if c.Kind != merge.ConflictRows {
			continue
		}
		spec, _ := attrs.Table(c.Path)
		rp, data, err := table.ConflictReport(c, spec)
		if err != nil {
			return nil, nil, err
		}
		id, size, err := r.putBytes(ctx, data)
		if err != nil {
			return nil, nil, err
		}
		steps = append(steps, planStep{path: rp, entry: &dag.TreeEntry{Name: path.Base(rp), Mode: dag.ModeFile, ID: id, Size: size}})
		paths = append(paths, rp)
	}
	return steps, paths, nil
}

// putBytes stores data as a File, chunked as a commit would chunk it.
func (r *Repo) putBytes(ctx context.Context, data []byte) (dag.ID, uint64, error) {
	ck, err := chunker.New(bytes.NewReader(data), chunker.DefaultOptions())
	if err != nil {
		return dag.ZeroID, 0, err
	}
	fb := dag.NewFileBuilder(ctx, r.Store)
	var buf []byte
	for {
		c, err := ck.Next(buf[:0])
		if err == io.EOF {
			return fb.Finish()
		}
		if err != nil {
			return dag.ZeroID, 0, err
		}
		buf = c
		id, err := r.Store.Put(ctx, dag.KindChunk, c)
		if err != nil {
			return dag.ZeroID, 0, err
		}
		if err := fb.Add(dag.ChunkRef{ID: id, Len: uint32(len(c))}); err != nil {
			return dag.ZeroID, 0, err
		}
	}
}
