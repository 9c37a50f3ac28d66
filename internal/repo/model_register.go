package repo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// RegisterOptions configure RegisterModel.
type RegisterOptions struct {
	Name     string
	Artifact string   // a file or directory on disk
	Data     []string // REV or REV:PATH, at least one
	Params   map[string]string
	Metrics  map[string]string
	// Dir is where relative paths start and where the code revision is
	// looked up (git); default the worktree root.
	Dir string
}

// RegisterModel stores a model's artifact (deduplicated like any data) and
// records a new version of the model against the data commits it was
// trained on and, inside a git checkout, the code revision.
func (r *Repo) RegisterModel(ctx context.Context, o RegisterOptions) (*ModelVersion, error) {
	if err := store.ValidRefComponent(o.Name); err != nil || strings.Contains(o.Name, "@") {
		return nil, fmt.Errorf("model name %q: %w", o.Name, ErrBadName)
	}
	if len(o.Data) == 0 {
		return nil, errors.New("model register: name the data it was trained on (--data REV[:PATH])")
	}
	if o.Dir == "" {
		o.Dir = r.Root
	}
	// Check everything before storing anything.
	data, err := r.modelData(ctx, o.Data)
	if err != nil {
		return nil, err
	}
	art := o.Artifact
	if !filepath.IsAbs(art) {
		art = filepath.Join(o.Dir, art)
	}
	fi, err := os.Lstat(art)
	if err != nil {
		return nil, fmt.Errorf("model register: artifact: %w", err)
	}
	if !fi.IsDir() && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("model register: artifact %s is not a file or directory", o.Artifact)
	}
	prevID, err := r.Store.Ref(ctx, modelsPrefix+o.Name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	m := &dag.Model{Name: o.Name, Version: 1, ArtifactKind: dag.KindTree, Data: data,
		Params: o.Params, Metrics: o.Metrics, Previous: prevID, Time: r.opts.Now().UTC()}
	if !prevID.IsZero() {
		prev, err := r.loadModel(ctx, prevID)
		if err != nil {
			return nil, err
		}
		m.Version = prev.Version + 1
	}
	m.CodeRev, m.CodeDirty = gitRevision(ctx, o.Dir)
	tree, err := r.storeArtifact(ctx, art, fi.IsDir())
	if err != nil {
		return nil, err
	}
	m.Artifact = tree
	b, err := m.Encode()
	if err != nil {
		return nil, err
	}
	id, err := r.Store.Put(ctx, dag.KindModel, b)
	if err != nil {
		return nil, err
	}
	if err := r.Store.Flush(ctx); err != nil {
		return nil, err
	}
	up := store.RefUpdate{Name: modelsPrefix + o.Name, Old: prevID, New: id}
	if err := r.Store.Transaction(ctx, []store.RefUpdate{up}, nil, fmt.Sprintf("model register: %s@%d", o.Name, m.Version)); err != nil {
		return nil, err
	}
	return r.modelVersion(ctx, id, m)
}

// modelData resolves REV[:PATH] specs, grouping paths by commit. A path
// must exist in its commit.
func (r *Repo) modelData(ctx context.Context, specs []string) ([]dag.DataRef, error) {
	var out []dag.DataRef
	idx := map[dag.ID]int{}
	for _, s := range specs {
		rev, p, hasPath := strings.Cut(s, ":")
		res, err := r.Resolve(ctx, rev)
		if err != nil {
			return nil, fmt.Errorf("--data %s: %w", s, err)
		}
		i, ok := idx[res.ID]
		if !ok {
			i = len(out)
			idx[res.ID] = i
			out = append(out, dag.DataRef{Commit: res.ID})
		}
		if !hasPath {
			out[i].Paths = nil
			idx[res.ID] = -1 - i // whole tree: later paths add nothing
			continue
		}
		if i < 0 {
			continue
		}
		clean, err := cleanPaths([]string{p})
		if err != nil {
			return nil, fmt.Errorf("--data %s: %w", s, err)
		}
		if _, err := dag.LookupPath(ctx, r.Store, res.Commit.Tree, clean[0]); err != nil {
			if errors.Is(err, dag.ErrNotFound) {
				return nil, fmt.Errorf("--data %s: %s is not in %s: %w", s, clean[0], rev, ErrPathspec)
			}
			return nil, err
		}
		out[i].Paths = append(out[i].Paths, clean[0])
	}
	for i := range out {
		sort.Strings(out[i].Paths)
	}
	return out, nil
}

// gitRevision returns the git commit checked out in dir and whether
// tracked files differ from it; empty outside a git checkout.
func gitRevision(ctx context.Context, dir string) (string, bool) {
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return "", false
	}
	rev := strings.TrimSpace(string(out))
	st, err := exec.CommandContext(ctx, "git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output()
	return rev, err == nil && len(strings.TrimSpace(string(st))) > 0
}

// storeArtifact stores a file or directory as a tree: a directory as
// itself, a file as a tree holding it under its name.
func (r *Repo) storeArtifact(ctx context.Context, p string, dir bool) (dag.ID, error) {
	base, only := p, []string(nil)
	if !dir {
		base, only = filepath.Dir(p), []string{filepath.Base(p)}
	}
	sc, err := r.newScanner(ctx, base, only)
	if err != nil {
		return dag.ZeroID, err
	}
	root, err := sc.scan(ctx)
	if err != nil {
		return dag.ZeroID, err
	}
	if _, err := r.ingestFiles(ctx, base, store.IngestStore, fileNodes(root), "storing model", false); err != nil {
		return dag.ZeroID, err
	}
	if err := buildTrees(ctx, r.Store, root); err != nil {
		return dag.ZeroID, err
	}
	return root.id, nil
}
