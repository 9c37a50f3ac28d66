package main

// DuckDB's row diff of the Parquet table's two versions, beside dx's.

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/dxdata/dx/internal/npmcache"
)

// DuckDBDiffResult is DuckDB (npm @duckdb/node-api) diffing the two
// versions of a Parquet table by key with EXCEPT both ways, in the same
// run as dx's row diff.
type DuckDBDiffResult struct {
	Seconds     float64 `json:"seconds"`      // the query alone
	WallSeconds float64 `json:"wall_seconds"` // node started, DuckDB loaded, the query
	Added       int64   `json:"added"`
	Removed     int64   `json:"removed"`
	Changed     int64   `json:"changed"`
	Agrees      bool    `json:"agrees"` // the same counts as dx's
	Error       string  `json:"error,omitempty"`
}

// duckdbRowDiff writes v1 of ds again beside the repository (v2 is in
// its worktree) and times DuckDB's diff of the two by id.
func (b *bench) duckdbRowDiff(ds *dataset, repo string, rd *RowDiffResult) *DuckDBDiffResult {
	res := &DuckDBDiffResult{}
	fail := func(err error) *DuckDBDiffResult {
		res.Error = err.Error()
		logf("  DuckDB row diff FAILED: %v", err)
		return res
	}
	dir, err := npmcache.Install(filepath.Join("internal", "table", "parquet", "testdata", "duckdb"), "duckdb", "@duckdb/node-api/package.json")
	if err != nil {
		return fail(err)
	}
	v1Dir := filepath.Join(b.cfg.dir, "duckdb-"+ds.name+"-v1")
	defer os.RemoveAll(v1Dir)
	if err := os.MkdirAll(v1Dir, 0o755); err != nil {
		return fail(err)
	}
	if _, err := ds.genV1(v1Dir); err != nil {
		return fail(err)
	}
	b.drop.drop()
	r := b.rn.run(v1Dir, []string{"NODE_NO_WARNINGS=1"}, "node", filepath.Join(dir, "except.mjs"), "--count", "id",
		filepath.Join(v1Dir, ds.paths[0]), filepath.Join(repo, ds.paths[0]))
	if r.Err != nil {
		return fail(r.Err)
	}
	if err := json.Unmarshal([]byte(r.Stdout), res); err != nil {
		return fail(err)
	}
	res.WallSeconds = r.Seconds
	res.Agrees = res.Added == rd.Added && res.Removed == rd.Removed && res.Changed == rd.Changed
	logf("  DuckDB row diff (EXCEPT by id): %.2fs (%.2fs with node's start), +%d −%d ~%d, agrees with dx: %v",
		res.Seconds, res.WallSeconds, res.Added, res.Removed, res.Changed, res.Agrees)
	return res
}
