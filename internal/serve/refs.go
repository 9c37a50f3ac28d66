package serve

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/store"
)

// modelRefPrefix begins a key's first component that names a model
// version's training data: model:NAME@VERSION.
const modelRefPrefix = "model:"

// ErrNoRef: a key's first component names no branch, tag, commit or model
// version.
var ErrNoRef = errors.New("no such ref")

// version is what a key's ref resolves to: a commit, and the paths of its
// tree the key space shows (all of them for a branch, tag or commit; the
// paths a model version was trained on for model:NAME@V).
type version struct {
	commit dag.ID
	c      *dag.Commit
	// paths limits the visible tree to these paths and what is under
	// them; nil shows the whole tree.
	paths []string
}

// resolveRef resolves a key's first component in r.
func resolveRef(ctx context.Context, r *repo.Repo, name string) (version, error) {
	if spec, ok := strings.CutPrefix(name, modelRefPrefix); ok {
		return resolveModel(ctx, r, spec)
	}
	if name == "" {
		return version{}, fmt.Errorf("empty ref: %w", ErrNoRef)
	}
	for _, prefix := range []string{"refs/heads/", "refs/tags/"} {
		id, err := r.Store.Ref(ctx, prefix+name)
		if err == nil {
			return loadVersion(ctx, r, id, nil)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return version{}, err
		}
	}
	if len(name) == 2*dag.IDSize {
		if id, err := dag.ParseID(name); err == nil {
			return loadVersion(ctx, r, id, nil)
		}
	}
	return version{}, fmt.Errorf("%q: %w", name, ErrNoRef)
}

// resolveModel resolves NAME@VERSION (or NAME@STAGE) to the data commit
// the version was trained on and the paths it used.
func resolveModel(ctx context.Context, r *repo.Repo, spec string) (version, error) {
	mv, err := r.Model(ctx, spec)
	if errors.Is(err, repo.ErrUnknownModel) {
		return version{}, fmt.Errorf("model %q: %w", spec, ErrNoRef)
	}
	if err != nil {
		return version{}, err
	}
	if len(mv.Data) == 0 {
		return version{}, fmt.Errorf("model %q names no data: %w", spec, ErrNoRef)
	}
	commit := mv.Data[0].Commit
	var paths []string
	whole := false
	for _, d := range mv.Data {
		if d.Commit != commit {
			return version{}, fmt.Errorf("model %q was trained on several commits; name one by its id: %w", spec, ErrNoRef)
		}
		if len(d.Paths) == 0 {
			whole = true
		}
		paths = append(paths, d.Paths...)
	}
	if whole {
		paths = nil
	}
	return loadVersion(ctx, r, commit, paths)
}

func loadVersion(ctx context.Context, r *repo.Repo, id dag.ID, paths []string) (version, error) {
	c, err := dag.LoadCommit(ctx, r.Store, id)
	if errors.Is(err, store.ErrNotFound) {
		return version{}, fmt.Errorf("commit %s: %w", id.Short(), ErrNoRef)
	}
	if err != nil {
		return version{}, err
	}
	for i, p := range paths {
		paths[i] = strings.Trim(p, "/")
	}
	return version{commit: id, c: c, paths: paths}, nil
}

// showsFile reports whether the version shows the file at path p.
func (v version) showsFile(p string) bool {
	if v.paths == nil {
		return true
	}
	for _, mp := range v.paths {
		if mp == "" || p == mp || strings.HasPrefix(p, mp+"/") {
			return true
		}
	}
	return false
}

// showsDir reports whether the version shows anything under directory d.
func (v version) showsDir(d string) bool {
	if v.paths == nil || v.showsFile(d) {
		return true
	}
	for _, mp := range v.paths {
		if strings.HasPrefix(mp, d+"/") {
			return true
		}
	}
	return false
}

// listedRefs returns the names of the branches and tags (a tag only when
// no branch has its name, as resolveRef prefers branches), sorted as their
// keys are: by name + "/". A name holding a "/" is left out: a key's ref
// is its first component.
func listedRefs(ctx context.Context, r *repo.Repo) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, prefix := range []string{"refs/heads/", "refs/tags/"} {
		_, names, err := r.Store.Refs(ctx, prefix)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			n = strings.TrimPrefix(n, prefix)
			if strings.Contains(n, "/") || seen[n] {
				continue
			}
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i]+"/" < out[j]+"/" })
	return out, nil
}
