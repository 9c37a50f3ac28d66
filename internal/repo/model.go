package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// ErrUnknownModel is returned for a model name or version not registered.
var ErrUnknownModel = errors.New("unknown model")

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
}

// ModelData is the data a model version was trained on.
type ModelData struct {
	Commit dag.ID   `json:"commit"`
	Paths  []string `json:"paths,omitempty"` // none: the whole tree
}

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
	if _, err := r.ingestFiles(ctx, base, store.IngestStore, fileNodes(root), "storing model"); err != nil {
		return dag.ZeroID, err
	}
	if err := buildTrees(ctx, r.Store, root); err != nil {
		return dag.ZeroID, err
	}
	return root.id, nil
}

func (r *Repo) loadModel(ctx context.Context, id dag.ID) (*dag.Model, error) {
	b, err := r.Store.Get(ctx, dag.KindModel, id)
	if err != nil {
		return nil, err
	}
	return dag.DecodeModel(b)
}

func (r *Repo) modelVersion(ctx context.Context, id dag.ID, m *dag.Model) (*ModelVersion, error) {
	mv := &ModelVersion{ID: id, Name: m.Name, Version: m.Version, Artifact: m.Artifact, CodeRev: m.CodeRev,
		Dirty: m.CodeDirty, Params: m.Params, Metrics: m.Metrics, Time: m.Time.Format("2006-01-02T15:04:05Z")}
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
		out = append(out, mv)
	}
	return out, nil
}

// Model resolves NAME or NAME@VERSION.
func (r *Repo) Model(ctx context.Context, spec string) (*ModelVersion, error) {
	name, ver, hasVer := strings.Cut(spec, "@")
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
		perm := os.FileMode(0o644)
		if e.Mode == dag.ModeExec {
			perm = 0o755
		}
		f, err := root.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
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

// ModelLineage is what a model version was trained on: each data commit
// (and paths) with its history.
type ModelLineage struct {
	Model *ModelVersion `json:"model"`
	Data  []DataHistory `json:"data"`
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
			for _, dp := range d.Paths {
				if strings.HasPrefix(dp, p+"/") { // p is a directory holding the data
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
		tds, err := r.DiffRows(ctx, RowDiffOptions{Revs: []string{d.Commit.String(), to.ID.String()}, Paths: d.Paths})
		if err != nil {
			return nil, fmt.Errorf("delta of %s since %s: %w", spec, d.Commit.Short(), err)
		}
		out.Data = append(out.Data, DataDelta{From: d.Commit, Paths: d.Paths, Tables: tds})
	}
	return out, nil
}

// WriteFile writes the content of a file entry to w.
func (r *Repo) WriteFile(ctx context.Context, e *dag.TreeEntry, w io.Writer) error {
	n, err := r.Store.CopyFile(ctx, e.ID, w, store.CopyOptions{})
	if err != nil {
		return err
	}
	if n != int64(e.Size) {
		return fmt.Errorf("%d bytes, tree says %d: %w", n, e.Size, store.ErrCorrupt)
	}
	return nil
}
