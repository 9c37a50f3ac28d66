package repo

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// CeilingResult is what RestoreCeiling did.
type CeilingResult struct {
	Files   int     `json:"files"`
	Bytes   int64   `json:"bytes"`
	Seconds float64 `json:"seconds"`
}

// RestoreCeiling writes every file of rev from the store into a
// temporary directory under .dx/tmp (the worktree's file system) with
// only the necessary work (store.RestoreCeiling), times it, and removes
// the directory: the speed a checkout of rev could reach on this machine.
func (r *Repo) RestoreCeiling(ctx context.Context, rev string) (*CeilingResult, error) {
	res, err := r.Resolve(ctx, rev)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(filepath.Join(r.Root, ".dx", "tmp"), "restore-ceiling-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	// The walk and the directories are necessary work too.
	start := time.Now()
	var files []store.CeilingFile
	err = dag.WalkTree(ctx, r.Store, res.Commit.Tree, func(p string, e dag.TreeEntry) error {
		switch e.Mode {
		case dag.ModeDir:
			return os.Mkdir(filepath.Join(dir, filepath.FromSlash(p)), 0o755)
		case dag.ModeFile, dag.ModeExec:
			files = append(files, store.CeilingFile{ID: e.ID, Path: filepath.Join(dir, filepath.FromSlash(p))})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	n, err := r.Store.RestoreCeiling(ctx, files)
	if err != nil {
		return nil, err
	}
	return &CeilingResult{Files: len(files), Bytes: n, Seconds: time.Since(start).Seconds()}, nil
}
