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
	// CleanupSeconds is the time the files took to remove afterwards:
	// not restore work, which a caller timing the whole command takes off.
	CleanupSeconds float64 `json:"cleanup_seconds"`
	// Dir is where the files are, when the caller asked to keep them.
	Dir string `json:"dir,omitempty"`
}

// RestoreCeiling writes every file of rev from the store into a
// temporary directory under .dx/tmp (the worktree's file system) with
// only the necessary work (store.RestoreCeiling), times it, and removes
// the directory (timed apart) unless keep is set: the speed a checkout of
// rev could reach on this machine. A caller that times runs one after
// another keeps the files, to remove them after its last run: a file
// system's creates can slow for minutes after a mass removal.
func (r *Repo) RestoreCeiling(ctx context.Context, rev string, keep bool) (*CeilingResult, error) {
	c, err := r.Resolve(ctx, rev)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(filepath.Join(r.Root, ".dx", "tmp"), "restore-ceiling-")
	if err != nil {
		return nil, err
	}
	// The walk and the directories are necessary work too.
	start := time.Now()
	var files []store.CeilingFile
	err = dag.WalkTree(ctx, r.Store, c.Commit.Tree, func(p string, e dag.TreeEntry) error {
		switch e.Mode {
		case dag.ModeDir:
			return os.Mkdir(filepath.Join(dir, filepath.FromSlash(p)), 0o755)
		case dag.ModeFile, dag.ModeExec:
			files = append(files, store.CeilingFile{ID: e.ID, Path: filepath.Join(dir, filepath.FromSlash(p))})
		}
		return nil
	})
	var n int64
	if err == nil {
		n, err = r.Store.RestoreCeiling(ctx, files)
	}
	res := &CeilingResult{Files: len(files), Bytes: n, Seconds: time.Since(start).Seconds()}
	if keep && err == nil {
		res.Dir = dir
		return res, nil
	}
	start = time.Now()
	if rerr := os.RemoveAll(dir); err == nil {
		err = rerr
	}
	if err != nil {
		return nil, err
	}
	res.CleanupSeconds = time.Since(start).Seconds()
	return res, nil
}
