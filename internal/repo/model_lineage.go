package repo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dxdata/dx/dag"
)

// ModelLineage is what a model version was trained on: each data commit
// (and paths) with its history, and the moves of stages onto or off it.
type ModelLineage struct {
	Model  *ModelVersion  `json:"model"`
	Data   []DataHistory  `json:"data"`
	Stages []*StageChange `json:"stage_moves,omitempty"` // newest first
}

// DataHistory is one data commit of a model and the commits before it.
type DataHistory struct {
	ModelData
	Log []LogEntry `json:"log"`
}

// ModelLineage answers "what data trained this model": the model version's
// data commits and up to limit commits of each one's history.
func (r *Repo) ModelLineage(ctx context.Context, spec string, limit int) (*ModelLineage, error) {
	mv, err := r.Model(ctx, spec)
	if err != nil {
		return nil, err
	}
	out := &ModelLineage{Model: mv}
	for _, d := range mv.Data {
		log, err := r.Log(ctx, []string{d.Commit.String()}, limit)
		if err != nil {
			return nil, err
		}
		out.Data = append(out.Data, DataHistory{ModelData: d, Log: log})
	}
	moves, err := r.StageLog(ctx, mv.Name, "")
	if err != nil {
		return nil, err
	}
	for _, c := range moves {
		if c.From == mv.Version || c.To == mv.Version {
			out.Stages = append(out.Stages, c)
		}
	}
	return out, nil
}

// ModelsUsing answers "which models used this data": every version of
// every model trained on a data commit that has commit rev in its history
// (rev itself or a descendant of it; any commit when rev is empty) and,
// when p is set, whose data covers path p (present in that data commit).
func (r *Repo) ModelsUsing(ctx context.Context, rev, p string) ([]*ModelVersion, error) {
	commit := dag.ZeroID
	if rev != "" {
		res, err := r.Resolve(ctx, rev)
		if err != nil {
			return nil, err
		}
		commit = res.ID
	}
	latest, err := r.Models(ctx)
	if err != nil {
		return nil, err
	}
	var out []*ModelVersion
	for _, l := range latest {
		log, err := r.ModelLog(ctx, l.Name)
		if err != nil {
			return nil, err
		}
		for _, mv := range log {
			for _, d := range mv.Data {
				ok, err := r.dataContains(ctx, d, commit, p)
				if err != nil {
					return nil, err
				}
				if ok {
					out = append(out, mv)
					break
				}
			}
		}
	}
	return out, nil
}

func (r *Repo) dataContains(ctx context.Context, d ModelData, commit dag.ID, p string) (bool, error) {
	if p != "" {
		if len(d.Paths) > 0 && !withinAny(p, d.Paths) {
			covered := false
			for _, dataPath := range d.Paths {
				if strings.HasPrefix(dataPath, p+"/") { // p is a directory holding the data
					covered = true
				}
			}
			if !covered {
				return false, nil
			}
		}
		c, err := dag.LoadCommit(ctx, r.Store, d.Commit)
		if err != nil {
			return false, err
		}
		if _, err := dag.LookupPath(ctx, r.Store, c.Tree, p); err != nil {
			if errors.Is(err, dag.ErrNotFound) {
				return false, nil
			}
			return false, err
		}
	}
	if commit.IsZero() {
		return true, nil
	}
	return dag.IsAncestor(ctx, r.Store, commit, d.Commit)
}

// ModelDelta is what changed in a model version's data since it was
// trained: for each data commit (and its paths), the file changes and, for
// tables, the added, changed (old and new) and removed rows up to To.
type ModelDelta struct {
	Model *ModelVersion `json:"model"`
	To    dag.ID        `json:"to"`
	Data  []DataDelta   `json:"data"`
}

// DataDelta is the delta of one data commit of a model.
type DataDelta struct {
	From   dag.ID      `json:"from"`
	Paths  []string    `json:"paths,omitempty"`
	Tables []TableDiff `json:"-"`
}

// Delta computes what changed in a model version's data between its
// training commits and rev (HEAD when empty). Like the row diff it reads
// only the chunks that differ, so it costs what changed. It is a library
// call: front ends print it, and subscribers can compute the same delta.
func (r *Repo) Delta(ctx context.Context, spec, rev string) (*ModelDelta, error) {
	mv, err := r.Model(ctx, spec)
	if err != nil {
		return nil, err
	}
	if rev == "" {
		rev = "HEAD"
	}
	to, err := r.Resolve(ctx, rev)
	if err != nil {
		return nil, err
	}
	out := &ModelDelta{Model: mv, To: to.ID}
	for _, d := range mv.Data {
		tables, err := r.DiffRows(ctx, RowDiffOptions{Revs: []string{d.Commit.String(), to.ID.String()}, Paths: d.Paths})
		if err != nil {
			return nil, fmt.Errorf("delta of %s since %s: %w", spec, d.Commit.Short(), err)
		}
		out.Data = append(out.Data, DataDelta{From: d.Commit, Paths: d.Paths, Tables: tables})
	}
	return out, nil
}
