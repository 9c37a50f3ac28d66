package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/store"
)

func (a *app) debugCmd() *cobra.Command {
	dbg := &cobra.Command{Use: "debug", Short: "Internal measurements", Hidden: true}
	var writeDir string
	ceiling := &cobra.Command{
		Use:   "ceiling PATH...",
		Short: "Read, chunk, hash and compress files on all cores, storing nothing (or, with --write, only writing the compressed chunks in packs); print JSON",
		Args:  args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runCeiling(cmd.Context(), args, writeDir)
		},
	}
	ceiling.Flags().StringVar(&writeDir, "write", "", "also write the compressed chunks in packs, directly and synced as a commit writes them, into a temporary directory in `DIR` (removed after)")
	dbg.AddCommand(ceiling)
	var keep bool
	restore := &cobra.Command{
		Use:   "restore-ceiling [REV]",
		Short: "Write every file of REV (HEAD) from the store, on as many workers as a checkout, with nothing but the necessary work, into a temporary directory; print JSON",
		Args:  args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			rev := "HEAD"
			if len(args) == 1 {
				rev = args[0]
			}
			return a.withRepo(cmd.Context(), func(r *repo.Repo) error {
				res, err := r.RestoreCeiling(cmd.Context(), rev, keep)
				if err != nil {
					return err
				}
				return a.printJSON(res)
			})
		},
	}
	restore.Flags().BoolVar(&keep, "keep", false, "keep the files written (their directory is in the JSON's dir) for the caller to remove")
	dbg.AddCommand(restore)
	dbg.AddCommand(a.debugHistoryCmd())
	dbg.AddCommand(a.emptyTrashCmd())
	return dbg
}

// runCeiling reads, chunks, hashes and compresses the files under paths on
// all cores, storing nothing, and prints what it did as JSON: the speed
// dx could reach. With writeDir it also writes the compressed chunks the
// way a commit writes packs (store.CeilingWriter), the disk writes a
// commit cannot skip, into a temporary directory there.
func (a *app) runCeiling(ctx context.Context, paths []string, writeDir string) error {
	var files []store.IngestFile
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Name() == ".dx" && d.IsDir() {
				return filepath.SkipDir
			}
			if d.Type().IsRegular() {
				files = append(files, store.IngestFile{Path: path})
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	var stored atomic.Int64
	var n atomic.Int64
	o := store.IngestOptions{
		Mode: store.IngestCompressOnly, StoredBytes: &stored,
		Progress: func(k int64) { n.Add(k) },
		Workers:  runtime.GOMAXPROCS(0),
	}
	var cw *store.CeilingWriter
	if writeDir != "" {
		tmp, err := os.MkdirTemp(writeDir, ".dx-ceiling-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		cw = store.NewCeilingWriter(tmp, o.Workers, 0)
		o.Sink = cw
	}
	start := time.Now()
	var s *store.Store
	_, err := s.Ingest(ctx, files, o)
	if cw != nil {
		if cerr := cw.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	b, _ := json.Marshal(map[string]any{"bytes": n.Load(), "seconds": secs, "stored_bytes": stored.Load(), "files": len(files)})
	fmt.Fprintln(a.stdout, string(b))
	return nil
}
