package main

// One dataset's run: dx, its ceiling, then every installed peer.

import (
	"context"
	"os"
	"path/filepath"
	"time"
)

// runDataset measures the ceiling, dx and every installed peer on ds.
func (b *bench) runDataset(ctx context.Context, ds *dataset) {
	dr := &DatasetResult{Name: ds.name, Title: ds.title}
	b.rep.Datasets = append(b.rep.Datasets, dr)
	dsDir := filepath.Join(b.cfg.dir, "dxbench-"+ds.name)
	os.RemoveAll(dsDir)
	logf("=== dataset %s: %s", ds.name, ds.title)

	dxr, ceil, storeCeil := b.measureDX(ds, dr, filepath.Join(dsDir, "dx"))
	dr.Results = append(dr.Results, dxr, ceil, storeCeil)
	b.cleanup(filepath.Join(dsDir, "dx"))

	if ds.withPeers {
		for _, p := range b.rep.Peers {
			if ctx.Err() != nil {
				break
			}
			res := &Result{Tool: p.Name, Version: p.Version}
			dr.Results = append(dr.Results, res)
			if ds.skipPeers[p.Name] {
				res.Status = "not run"
				dr.Notes = append(dr.Notes, p.Name+" is not run on this dataset: adding this many files takes it minutes.")
				continue
			}
			if !p.Installed {
				res.Status = "not installed"
				continue
			}
			b.measurePeer(ds, peerByName(p.Name), res, filepath.Join(dsDir, p.Name))
			b.cleanup(filepath.Join(dsDir, p.Name))
			b.writeReports(false)
		}
	} else if len(b.rep.Peers) > 0 {
		dr.Notes = append(dr.Notes, peersSkipped(ds.name))
	}
	b.cleanup(dsDir)
}

func (b *bench) cleanup(dir string) {
	if b.cfg.keep {
		return
	}
	if err := os.RemoveAll(dir); err != nil {
		logf("warning: removing %s: %v", dir, err)
	}
}

// gen runs a generator step with progress output.
func (b *bench) gen(what string, f func() (genInfo, error)) (genInfo, error) {
	logf("  generating %s ...", what)
	t := time.Now()
	g, err := f()
	s := time.Since(t).Seconds()
	if err != nil {
		logf("  generating %s failed: %v", what, err)
		return g, err
	}
	logf("  generated %s: %s in %d files, %.1fs (%.0f MB/s)", what, human(g.Bytes), g.Files, s, mbps(g.Bytes, s))
	return g, nil
}

// peersSkipped says why the peers are not run on a dataset.
func peersSkipped(name string) string {
	if name == "dolt" {
		return "Peers are not run on this dataset: it compares dx's row diff and merge with Dolt's figures at Dolt's table size."
	}
	return "Peers are not run on this dataset: it only checks dx's throughput and peak memory on one large file."
}
