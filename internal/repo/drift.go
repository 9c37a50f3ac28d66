package repo

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/contract"
	"github.com/dxdata/dx/internal/profile"
	"github.com/dxdata/dx/internal/table"
)

// DriftReport is how the tables' columns moved from one version to
// another.
type DriftReport struct {
	From   dag.ID       `json:"from"`
	To     dag.ID       `json:"to"`
	Tables []TableDrift `json:"tables"`
	// Breached: some column drifted past a threshold.
	Breached bool `json:"breached"`
}

// TableDrift is one table's drift. Status is "added" or "removed" for a
// table in one version only (no columns compared), "unchanged" for the
// same file in both.
type TableDrift struct {
	Path     string                `json:"path"`
	Status   string                `json:"status,omitempty"`
	RowsA    int64                 `json:"rows_a"`
	RowsB    int64                 `json:"rows_b"`
	Columns  []profile.ColumnDrift `json:"columns"`
	Breached bool                  `json:"breached"`
	// Computed counts the chunks profiled anew (both versions).
	Computed int `json:"chunks_computed"`
}

// Drift compares the tables of revisions a and b (those under paths,
// if any), column by column, against the thresholds of b's contract.
func (r *Repo) Drift(ctx context.Context, a, b string, paths []string) (*DriftReport, error) {
	ra, err := r.Resolve(ctx, a)
	if err != nil {
		return nil, err
	}
	rb, err := r.Resolve(ctx, b)
	if err != nil {
		return nil, err
	}
	out := &DriftReport{From: ra.ID, To: rb.ID, Tables: []TableDrift{}}
	if err := r.driftTrees(ctx, ra.Commit.Tree, rb.Commit.Tree, paths, out); err != nil {
		return nil, err
	}
	return out, nil
}

// ModelDrift compares the data a model version was trained on (each of
// its data commits, on its paths) with HEAD.
func (r *Repo) ModelDrift(ctx context.Context, spec string) (*DriftReport, error) {
	mv, err := r.Model(ctx, spec)
	if err != nil {
		return nil, err
	}
	head, err := r.Resolve(ctx, "HEAD")
	if err != nil {
		return nil, err
	}
	out := &DriftReport{To: head.ID, Tables: []TableDrift{}}
	for _, d := range mv.Data {
		out.From = d.Commit
		c, err := dag.LoadCommit(ctx, r.Store, d.Commit)
		if err != nil {
			return nil, err
		}
		if err := r.driftTrees(ctx, c.Tree, head.Commit.Tree, d.Paths, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// tableSide is a table file of one version.
type tableSide struct {
	e    dag.TreeEntry
	spec table.Spec
}

// driftTrees adds the drift of the tables of tree a and b under paths to
// out.
func (r *Repo) driftTrees(ctx context.Context, a, b dag.ID, paths []string, out *DriftReport) error {
	ta, err := r.treeTables(ctx, a, paths)
	if err != nil {
		return err
	}
	tb, err := r.treeTables(ctx, b, paths)
	if err != nil {
		return err
	}
	if len(paths) > 0 && len(ta) == 0 && len(tb) == 0 {
		return fmt.Errorf("%s: %w in either version", strings.Join(paths, ", "), ErrNotTable)
	}
	ca, err := r.treeContract(ctx, a)
	if err != nil {
		return err
	}
	cb, err := r.treeContract(ctx, b)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(tb))
	for p := range tb {
		names = append(names, p)
	}
	for p := range ta {
		if _, ok := tb[p]; !ok {
			names = append(names, p)
		}
	}
	slices.Sort(names)
	for _, p := range names {
		sa, inA := ta[p]
		sb, inB := tb[p]
		switch {
		case !inA:
			out.Tables = append(out.Tables, TableDrift{Path: p, Status: "added", Columns: []profile.ColumnDrift{}})
			continue
		case !inB:
			out.Tables = append(out.Tables, TableDrift{Path: p, Status: "removed", Columns: []profile.ColumnDrift{}})
			continue
		}
		pa, err := r.profileEntry(ctx, p, &sa.e, nil, sa.spec, ca)
		if err != nil {
			return err
		}
		pb, err := r.profileEntry(ctx, p, &sb.e, &sa.e, sb.spec, cb) // (derived from A's, if little changed)
		if err != nil {
			return err
		}
		td := TableDrift{Path: p, RowsA: pa.Rows, RowsB: pb.Rows, Computed: pa.Computed + pb.Computed,
			Columns: profile.Compare(pa.whole, pb.whole, thresholdsFor(cb, p))}
		if sa.e.ID == sb.e.ID {
			td.Status = "unchanged"
		}
		for _, c := range td.Columns {
			td.Breached = td.Breached || len(c.Breaches) > 0
		}
		out.Breached = out.Breached || td.Breached
		out.Tables = append(out.Tables, td)
	}
	return nil
}

// treeTables are the table files of a tree under paths (all, if none).
func (r *Repo) treeTables(ctx context.Context, tree dag.ID, paths []string) (map[string]tableSide, error) {
	attrs, err := r.treeAttributes(ctx, tree)
	if err != nil {
		return nil, err
	}
	out := map[string]tableSide{}
	err = dag.WalkTree(ctx, r.Store, tree, func(p string, e dag.TreeEntry) error {
		if !e.Mode.IsFile() || !r.inSparse(p) || !underPaths(p, paths) {
			return nil
		}
		if spec, ok := attrs.RowTable(p); ok {
			out[p] = tableSide{e: e, spec: spec}
		}
		return nil
	})
	return out, err
}

// underPaths: p is one of paths or under one (every path, with none).
func underPaths(p string, paths []string) bool {
	if len(paths) == 0 {
		return true
	}
	for _, q := range paths {
		q = strings.Trim(path.Clean(q), "/")
		if q == "." || p == q || strings.HasPrefix(p, q+"/") {
			return true
		}
	}
	return false
}

// thresholdsFor gives the drift thresholds of the table at p's columns:
// the contract's, else the defaults.
func thresholdsFor(c *contract.Contract, p string) func(col string) profile.Thresholds {
	t, _ := c.For(p)
	return func(col string) profile.Thresholds {
		th := profile.DefaultThresholds
		if t == nil {
			return th
		}
		for _, cc := range t.Columns {
			if cc.Name != col {
				continue
			}
			for _, b := range []struct {
				v   *float64
				dst *float64
			}{{cc.Drift.PSI, &th.PSI}, {cc.Drift.KS, &th.KS}, {cc.Drift.Nulls, &th.Nulls}} {
				if b.v != nil {
					*b.dst = *b.v
				}
			}
		}
		return th
	}
}

// ContractDrift is the drift from commit a to commit b of the tables
// among paths that b's data contract covers, or nil when none is (or a
// is zero: nothing to compare with). A subscriber hands it to its command
// with the delta.
func (r *Repo) ContractDrift(ctx context.Context, a, b dag.ID, paths []string) (*DriftReport, error) {
	if a.IsZero() || len(paths) == 0 {
		return nil, nil
	}
	cb, err := dag.LoadCommit(ctx, r.Store, b)
	if err != nil {
		return nil, err
	}
	c, err := r.treeContract(ctx, cb.Tree)
	if err != nil || c == nil {
		return nil, nil // no contract, or none that parses: no verdict to give
	}
	var covered []string
	for _, p := range paths {
		if _, ok := c.For(p); ok {
			covered = append(covered, p)
		}
	}
	if len(covered) == 0 {
		return nil, nil
	}
	ca, err := dag.LoadCommit(ctx, r.Store, a)
	if err != nil {
		return nil, err
	}
	out := &DriftReport{From: a, To: b, Tables: []TableDrift{}}
	if err := r.driftTrees(ctx, ca.Tree, cb.Tree, covered, out); err != nil {
		return nil, err
	}
	return out, nil
}
