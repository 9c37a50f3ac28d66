package repo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// ErrUnknownModel is returned for a model name or version not registered.
var ErrUnknownModel = errors.New("unknown model")

// modelsPrefix begins the ref of each model, which names its latest version.
const modelsPrefix = "refs/models/"

// ModelVersion is one registered version of a model, as shown to users.
type ModelVersion struct {
	ID       dag.ID            `json:"id"`
	Name     string            `json:"name"`
	Version  uint64            `json:"version"`
	Artifact dag.ID            `json:"artifact"` // a tree holding the artifact
	Size     uint64            `json:"size"`
	Data     []ModelData       `json:"data"`
	CodeRev  string            `json:"code_rev,omitempty"`
	Dirty    bool              `json:"code_dirty,omitempty"`
	Params   map[string]string `json:"params,omitempty"`
	Metrics  map[string]string `json:"metrics,omitempty"`
	Previous string            `json:"previous,omitempty"` // id of the version before
	Time     string            `json:"time"`
	// Stages names the stages on this version (production, …).
	Stages []string `json:"stages,omitempty"`
	// ModelStages maps every stage of the model to the version it is on;
	// set by Models and Model (list and show), not in logs.
	ModelStages map[string]uint64 `json:"model_stages,omitempty"`
	at          time.Time
}

// ModelData is the data a model version was trained on.
type ModelData struct {
	Commit dag.ID   `json:"commit"`
	Paths  []string `json:"paths,omitempty"` // none: the whole tree
}

// loadModel reads a stored model version.
func (r *Repo) loadModel(ctx context.Context, id dag.ID) (*dag.Model, error) {
	b, err := r.Store.Get(ctx, dag.KindModel, id)
	if err != nil {
		return nil, err
	}
	return dag.DecodeModel(b)
}

// modelVersion describes a stored model version for users.
func (r *Repo) modelVersion(ctx context.Context, id dag.ID, m *dag.Model) (*ModelVersion, error) {
	mv := &ModelVersion{ID: id, Name: m.Name, Version: m.Version, Artifact: m.Artifact, CodeRev: m.CodeRev,
		Dirty: m.CodeDirty, Params: m.Params, Metrics: m.Metrics, Time: m.Time.Format("2006-01-02T15:04:05Z"), at: m.Time}
	if !m.Previous.IsZero() {
		mv.Previous = m.Previous.String()
	}
	for _, d := range m.Data {
		mv.Data = append(mv.Data, ModelData{Commit: d.Commit, Paths: d.Paths})
	}
	if n, err := dag.LoadTreeNode(ctx, r.Store, m.Artifact); err == nil {
		for _, e := range n.Entries {
			mv.Size += e.Size
		}
		for _, c := range n.Children {
			mv.Size += c.Size
		}
	}
	return mv, nil
}

// ModelLog lists a model's versions, newest first.
func (r *Repo) ModelLog(ctx context.Context, name string) ([]*ModelVersion, error) {
	id, err := r.Store.Ref(ctx, modelsPrefix+name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%q: %w", name, ErrUnknownModel)
	}
	if err != nil {
		return nil, err
	}
	stages, err := r.Stages(ctx, name)
	if err != nil {
		return nil, err
	}
	var out []*ModelVersion
	for !id.IsZero() {
		m, err := r.loadModel(ctx, id)
		if err != nil {
			return nil, err
		}
		mv, err := r.modelVersion(ctx, id, m)
		if err != nil {
			return nil, err
		}
		mv.Stages = stageNames(stages, id)
		out = append(out, mv)
		id = m.Previous
	}
	return out, nil
}

// Models lists the latest version of every model.
func (r *Repo) Models(ctx context.Context) ([]*ModelVersion, error) {
	refs, names, err := r.Store.Refs(ctx, modelsPrefix)
	if err != nil {
		return nil, err
	}
	var out []*ModelVersion
	for _, n := range names {
		m, err := r.loadModel(ctx, refs[n])
		if err != nil {
			return nil, err
		}
		mv, err := r.modelVersion(ctx, refs[n], m)
		if err != nil {
			return nil, err
		}
		if err := r.fillStages(ctx, mv); err != nil {
			return nil, err
		}
		out = append(out, mv)
	}
	return out, nil
}

// Model resolves NAME (its latest version), NAME@VERSION or NAME@STAGE
// (the version the stage is on).
func (r *Repo) Model(ctx context.Context, spec string) (*ModelVersion, error) {
	mv, err := r.resolveModel(ctx, spec)
	if err != nil {
		return nil, err
	}
	return mv, r.fillStages(ctx, mv)
}

func (r *Repo) resolveModel(ctx context.Context, spec string) (*ModelVersion, error) {
	name, ver, hasVer := strings.Cut(spec, "@")
	if hasVer && strings.Trim(ver, "0123456789") != "" {
		return r.stageVersion(ctx, name, ver)
	}
	var want uint64
	if hasVer {
		v, err := strconv.ParseUint(ver, 10, 64)
		if err != nil || v == 0 {
			return nil, fmt.Errorf("%q: version must be a positive number: %w", spec, ErrUnknownModel)
		}
		want = v
	}
	log, err := r.ModelLog(ctx, name)
	if err != nil {
		return nil, err
	}
	if !hasVer {
		return log[0], nil
	}
	for _, mv := range log {
		if mv.Version == want {
			return mv, nil
		}
	}
	return nil, fmt.Errorf("%s has no version %d (latest is %d): %w", name, want, log[0].Version, ErrUnknownModel)
}

// ModelCheckout writes a model version's artifact into dir (created; it
// must be empty if it exists).
func (r *Repo) ModelCheckout(ctx context.Context, spec, dir string) (*ModelVersion, int, error) {
	mv, err := r.Model(ctx, spec)
	if err != nil {
		return nil, 0, err
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return nil, 0, fmt.Errorf("model checkout: %s is not empty: %w", dir, ErrExists)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, 0, fmt.Errorf("model checkout: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, 0, err
	}
	defer root.Close()
	n := 0
	err = dag.WalkTree(ctx, r.Store, mv.Artifact, func(p string, e dag.TreeEntry) error {
		if err := checkPath(p); err != nil {
			return err
		}
		if e.Mode == dag.ModeDir {
			return root.MkdirAll(p, 0o755)
		}
		if err := root.MkdirAll(path.Dir(p), 0o755); err != nil && path.Dir(p) != "." {
			return err
		}
		if e.Mode == dag.ModeSymlink {
			t, err := r.Store.ReadAll(ctx, e.ID, 4096)
			if err != nil {
				return err
			}
			return root.Symlink(string(t), p)
		}
		f, err := root.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, permOf(e.Mode))
		if err != nil {
			return err
		}
		_, err = r.Store.CopyFile(ctx, e.ID, f, store.CopyOptions{})
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		n++
		return err
	})
	if err != nil {
		return nil, n, fmt.Errorf("model checkout: %w", err)
	}
	return mv, n, nil
}
