package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/store"
)

func (a *app) debugCmd() *cobra.Command {
	dbg := &cobra.Command{Use: "debug", Short: "Internal measurements", Hidden: true}
	dbg.AddCommand(&cobra.Command{
		Use:   "ceiling PATH...",
		Short: "Read, chunk, hash and compress files on all cores, storing nothing; print JSON",
		Args:  args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runCeiling(cmd.Context(), args)
		},
	})
	dbg.AddCommand(&cobra.Command{
		Use:   "restore-ceiling [REV]",
		Short: "Write every file of REV (HEAD) from the store on all cores with nothing but the necessary work, into a temporary directory; print JSON",
		Args:  args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			rev := "HEAD"
			if len(args) == 1 {
				rev = args[0]
			}
			return a.withRepo(cmd.Context(), func(r *repo.Repo) error {
				res, err := r.RestoreCeiling(cmd.Context(), rev)
				if err != nil {
					return err
				}
				return a.printJSON(res)
			})
		},
	})
	dbg.AddCommand(a.debugHistoryCmd())
	return dbg
}

// runCeiling reads, chunks, hashes and compresses the files under paths on
// all cores, storing nothing, and prints what it did as JSON: the speed
// dx could reach.
func (a *app) runCeiling(ctx context.Context, paths []string) error {
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
	start := time.Now()
	var s *store.Store
	_, err := s.Ingest(ctx, files, store.IngestOptions{
		Mode: store.IngestCompressOnly, StoredBytes: &stored,
		Progress: func(k int64) { n.Add(k) },
	})
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	b, _ := json.Marshal(map[string]any{"bytes": n.Load(), "seconds": secs, "stored_bytes": stored.Load(), "files": len(files)})
	fmt.Fprintln(a.stdout, string(b))
	return nil
}
