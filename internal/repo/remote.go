package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/store"
)

// ErrNoRemote is returned for an unknown remote name.
var ErrNoRemote = errors.New("no such remote")

// configFile holds the repository's settings (remotes); never credentials.
const configFile = "config.json"

type config struct {
	Remotes map[string]remote.Config `json:"remotes,omitempty"`
}

func (r *Repo) configPath() string { return filepath.Join(r.Root, DirName, configFile) }

func (r *Repo) loadConfig() (*config, error) {
	c := &config{}
	b, err := os.ReadFile(r.configPath())
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("config %s: %w", r.configPath(), err)
	}
	return c, nil
}

func (r *Repo) saveConfig(c *config) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return store.WriteFileAtomic(r.configPath(), append(b, '\n'))
}

// RemoteInfo is a configured remote.
type RemoteInfo struct {
	Name string `json:"name"`
	remote.Config
}

// AddRemote records a remote.
func (r *Repo) AddRemote(name string, c remote.Config) error {
	if err := store.ValidRefComponent(name); err != nil || strings.Contains(name, "/") {
		return fmt.Errorf("remote name %q: %w", name, ErrBadName)
	}
	c, err := c.Normalize()
	if err != nil {
		return err
	}
	cfg, err := r.loadConfig()
	if err != nil {
		return err
	}
	if _, ok := cfg.Remotes[name]; ok {
		return fmt.Errorf("remote %s: %w", name, ErrExists)
	}
	if cfg.Remotes == nil {
		cfg.Remotes = map[string]remote.Config{}
	}
	cfg.Remotes[name] = c
	return r.saveConfig(cfg)
}

// Remotes lists the configured remotes by name.
func (r *Repo) Remotes() ([]RemoteInfo, error) {
	cfg, err := r.loadConfig()
	if err != nil {
		return nil, err
	}
	var out []RemoteInfo
	for n, c := range cfg.Remotes {
		out = append(out, RemoteInfo{Name: n, Config: c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RemoveRemote forgets a remote, its remote-tracking refs and its cache.
func (r *Repo) RemoveRemote(ctx context.Context, name string) error {
	cfg, err := r.loadConfig()
	if err != nil {
		return err
	}
	if _, ok := cfg.Remotes[name]; !ok {
		return fmt.Errorf("%q: %w", name, ErrNoRemote)
	}
	refs, names, err := r.Store.Refs(ctx, "refs/remotes/"+name+"/")
	if err != nil {
		return err
	}
	var ups []store.RefUpdate
	for _, n := range names {
		ups = append(ups, store.RefUpdate{Name: n, Old: refs[n]})
	}
	if len(ups) > 0 {
		if err := r.Store.Transaction(ctx, ups, nil, "remote remove "+name); err != nil {
			return err
		}
	}
	delete(cfg.Remotes, name)
	if err := r.saveConfig(cfg); err != nil {
		return err
	}
	return os.RemoveAll(r.remoteCache(name))
}

func (r *Repo) remoteCache(name string) string {
	return filepath.Join(r.Root, DirName, "remotes", name)
}

// remoteNamed resolves a remote name ("" means origin, or the only one).
func (r *Repo) remoteNamed(name string) (string, remote.Config, error) {
	cfg, err := r.loadConfig()
	if err != nil {
		return "", remote.Config{}, err
	}
	if name == "" {
		if _, ok := cfg.Remotes["origin"]; ok {
			name = "origin"
		} else if len(cfg.Remotes) == 1 {
			for n := range cfg.Remotes {
				name = n
			}
		} else if len(cfg.Remotes) == 0 {
			return "", remote.Config{}, fmt.Errorf("no remote configured (dx remote add NAME URL): %w", ErrNoRemote)
		} else {
			return "", remote.Config{}, fmt.Errorf("several remotes and none is origin; name one: %w", ErrNoRemote)
		}
	}
	c, ok := cfg.Remotes[name]
	if !ok {
		return "", remote.Config{}, fmt.Errorf("%q: %w", name, ErrNoRemote)
	}
	return name, c, nil
}

// connect opens a remote's backend and loads what it holds.
func (r *Repo) connect(ctx context.Context, name string) (string, remote.Backend, *remote.Index, error) {
	name, c, err := r.remoteNamed(name)
	if err != nil {
		return "", nil, nil, err
	}
	be, err := remote.Open(ctx, c)
	if err != nil {
		return "", nil, nil, err
	}
	// Wrong credentials, a missing bucket or a silent endpoint: one clear
	// line now, before any work.
	if err := remote.Check(ctx, be); err != nil {
		return "", nil, nil, err
	}
	ix, err := remote.LoadIndex(ctx, be, filepath.Join(r.remoteCache(name), "index"))
	if err != nil {
		return "", nil, nil, err
	}
	return name, be, ix, nil
}

func (r *Repo) transferOptions() remote.Options {
	return remote.Options{Progress: r.opts.Progress}
}

// PushOptions configure Push.
type PushOptions struct {
	Remote string   // default origin
	Refs   []string // branches or tags (short or full names); default the current branch
	All    bool     // every branch, tag and model
	Force  bool
	Jobs   int // parallel pack uploads; default 4
}

// Push sends branches (and tags, models) to a remote.
func (r *Repo) Push(ctx context.Context, o PushOptions) (*remote.PushResult, error) {
	name, be, ix, err := r.connect(ctx, o.Remote)
	if err != nil {
		return nil, err
	}
	var ups []remote.Update
	add := func(ref string, id dag.ID) {
		kind := dag.KindCommit
		if strings.HasPrefix(ref, "refs/models/") {
			kind = dag.KindModel
		}
		ups = append(ups, remote.Update{Name: ref, New: id, Kind: kind, Force: o.Force})
	}
	switch {
	case o.All:
		for _, prefix := range []string{"refs/heads/", "refs/tags/", "refs/models/"} {
			refs, names, err := r.Store.Refs(ctx, prefix)
			if err != nil {
				return nil, err
			}
			for _, n := range names {
				add(n, refs[n])
			}
		}
		if len(ups) == 0 {
			return nil, errors.New("push: nothing to push (no branches)")
		}
	case len(o.Refs) == 0:
		h, err := r.Store.Head(ctx)
		if err != nil {
			return nil, err
		}
		if h.Detached() {
			return nil, errors.New("push: HEAD is detached; name a branch to push")
		}
		id, err := r.Store.Ref(ctx, h.Ref)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("push: branch %s has no commits yet", ShortRef(h.Ref))
		}
		if err != nil {
			return nil, err
		}
		add(h.Ref, id)
	default:
		for _, n := range o.Refs {
			full, id, err := r.localRef(ctx, n)
			if err != nil {
				return nil, err
			}
			add(full, id)
		}
	}
	to := r.transferOptions()
	to.Parallel = o.Jobs
	res, perr := remote.Push(ctx, r.Store, be, ix, ups, to)
	if res == nil {
		return nil, perr
	}
	// Remote-tracking refs follow what the remote now holds.
	var track []store.RefUpdate
	for _, rr := range res.Refs {
		if rr.Err != nil || !strings.HasPrefix(rr.Name, "refs/heads/") {
			continue
		}
		tn := "refs/remotes/" + name + "/" + strings.TrimPrefix(rr.Name, "refs/heads/")
		cur, err := r.Store.Ref(ctx, tn)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return res, err
		}
		if cur != rr.New {
			track = append(track, store.RefUpdate{Name: tn, Old: cur, New: rr.New})
		}
	}
	if len(track) > 0 {
		if err := r.Store.Transaction(ctx, track, nil, "push "+name); err != nil {
			return res, err
		}
	}
	return res, perr
}

// localRef resolves a branch, tag or model name to its full ref.
func (r *Repo) localRef(ctx context.Context, n string) (string, dag.ID, error) {
	cands := []string{n}
	if !strings.HasPrefix(n, "refs/") {
		cands = []string{"refs/heads/" + n, "refs/tags/" + n, "refs/models/" + n}
	}
	for _, c := range cands {
		id, err := r.Store.Ref(ctx, c)
		if err == nil {
			return c, id, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return "", dag.ZeroID, err
		}
	}
	return "", dag.ZeroID, fmt.Errorf("push: %q is not a branch, tag or model: %w", n, ErrUnknownRevision)
}

// RefChange is a local ref a fetch moved.
type RefChange struct {
	Name string `json:"name"`
	Old  dag.ID `json:"old"`
	New  dag.ID `json:"new"`
	Note string `json:"note,omitempty"`
}

// FetchResult says what a fetch did.
type FetchResult struct {
	Remote string `json:"remote"`
	remote.FetchResult
	Refs []RefChange `json:"refs"`
}

// Fetch downloads a remote's branches, tags and models: its branches
// become refs/remotes/NAME/BRANCH; tags and models the local repository
// lacks are created (existing ones that differ are kept and reported).
func (r *Repo) Fetch(ctx context.Context, remoteName string) (*FetchResult, error) {
	return r.fetch(ctx, remoteName, r.sparse)
}

// fetch fetches file content only under paths when paths is non-nil (a
// sparse repository, or one becoming sparse).
func (r *Repo) fetch(ctx context.Context, remoteName string, paths []string) (*FetchResult, error) {
	name, be, ix, err := r.connect(ctx, remoteName)
	if err != nil {
		return nil, err
	}
	refs, err := remote.ListRefs(ctx, be)
	if err != nil {
		return nil, err
	}
	if len(refs) > 0 {
		if err := remote.CheckFormat(ctx, be); err != nil {
			return nil, err
		}
	}
	var roots []dag.Link
	for _, rf := range refs {
		kind := dag.KindCommit
		if strings.HasPrefix(rf.Name, "refs/models/") {
			kind = dag.KindModel
		}
		roots = append(roots, dag.Link{ID: rf.ID, Kind: kind})
	}
	to := r.transferOptions()
	if paths != nil {
		// The table attributes come too, wherever the sparse paths
		// are: row diffs and merges of the tables need them.
		to.Paths = append(slices.Clone(paths), table.AttributesFile)
		// A sparse store may lack what its objects name: walk through.
		to.Complete = r.sparse != nil
	}
	fr, err := remote.Fetch(ctx, r.Store, be, ix, roots, to)
	if err != nil {
		return nil, err
	}
	res := &FetchResult{Remote: name, FetchResult: *fr}
	var ups []store.RefUpdate
	seen := map[string]bool{}
	for _, rf := range refs {
		var local string
		switch {
		case strings.HasPrefix(rf.Name, "refs/heads/"):
			local = "refs/remotes/" + name + "/" + strings.TrimPrefix(rf.Name, "refs/heads/")
		case strings.HasPrefix(rf.Name, "refs/tags/"), strings.HasPrefix(rf.Name, "refs/models/"):
			local = rf.Name
		default:
			continue
		}
		seen[local] = true
		cur, err := r.Store.Ref(ctx, local)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if cur == rf.ID {
			continue
		}
		if !cur.IsZero() && !strings.HasPrefix(local, "refs/remotes/") {
			res.Refs = append(res.Refs, RefChange{Name: local, Old: cur, New: rf.ID, Note: "differs from the remote; kept"})
			continue
		}
		ups = append(ups, store.RefUpdate{Name: local, Old: cur, New: rf.ID})
		res.Refs = append(res.Refs, RefChange{Name: local, Old: cur, New: rf.ID})
	}
	// Branches deleted on the remote.
	tracked, names, err := r.Store.Refs(ctx, "refs/remotes/"+name+"/")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if !seen[n] {
			ups = append(ups, store.RefUpdate{Name: n, Old: tracked[n]})
			res.Refs = append(res.Refs, RefChange{Name: n, Old: tracked[n], Note: "deleted on the remote"})
		}
	}
	if len(ups) > 0 {
		if err := r.Store.Transaction(ctx, ups, nil, "fetch "+name); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// PullResult says what a pull did.
type PullResult struct {
	Fetch *FetchResult `json:"fetch"`
	Merge *MergeResult `json:"merge"`
}

// Pull fetches and then merges the remote's copy of the current branch
// (fast-forward when possible). Paths make (or widen) a sparse
// repository: only file content under them is fetched and checked out.
func (r *Repo) Pull(ctx context.Context, remoteName string, paths []string) (*PullResult, error) {
	h, err := r.Store.Head(ctx)
	if err != nil {
		return nil, err
	}
	if h.Detached() {
		return nil, errors.New("pull: HEAD is detached; check out a branch first")
	}
	headID, _, _, err := r.headCommit(ctx)
	if err != nil {
		return nil, err
	}
	want := r.sparse
	var added []string
	if len(paths) > 0 {
		if paths, err = cleanPaths(paths); err != nil {
			return nil, fmt.Errorf("pull --path: %w", err)
		}
		if r.sparse == nil && !headID.IsZero() {
			return nil, errors.New("pull --path: this repository is not sparse (it has all its data); --path starts a sparse one (dx clone --path P, or dx init then dx pull --path P)")
		}
		for _, p := range paths {
			if r.sparse != nil && withinAny(p, r.sparse) {
				continue
			}
			if _, err := os.Lstat(filepath.Join(r.Root, filepath.FromSlash(p))); err == nil && !headID.IsZero() {
				return nil, fmt.Errorf("pull --path %s: %s exists in the worktree outside the sparse paths; move it away first", p, p)
			}
			added = append(added, p)
		}
		want = append(slices.Clone(r.sparse), added...)
	}
	fr, err := r.fetch(ctx, remoteName, want)
	if err != nil {
		return nil, err
	}
	if len(added) > 0 {
		if _, err := r.addSparse(added); err != nil {
			return nil, err
		}
		if !headID.IsZero() {
			// The new paths come into the worktree as HEAD has them.
			if _, err := r.Checkout(ctx, "HEAD", CheckoutOptions{Paths: added, Force: true}); err != nil {
				return nil, err
			}
		}
	}
	branch := strings.TrimPrefix(h.Ref, "refs/heads/")
	track := "refs/remotes/" + fr.Remote + "/" + branch
	theirs, err := r.Store.Ref(ctx, track)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("pull: remote %s has no branch %s", fr.Remote, branch)
	}
	if err != nil {
		return nil, err
	}
	res := &PullResult{Fetch: fr}
	if _, err := r.Store.Ref(ctx, h.Ref); errors.Is(err, store.ErrNotFound) {
		// An unborn branch starts at the remote's.
		if err := r.checkoutNewBranch(ctx, track, h.Ref); err != nil {
			return nil, err
		}
		res.Merge = &MergeResult{FastForward: true, Commit: theirs, Theirs: theirs}
		return res, nil
	}
	mr, err := r.Merge(ctx, MergeOptions{Rev: track, Message: fmt.Sprintf("Merge %s/%s into %s", fr.Remote, branch, branch)})
	res.Merge = mr
	return res, err
}

// checkoutNewBranch writes rev into an empty worktree and makes HEAD the
// new branch ref at id.
func (r *Repo) checkoutNewBranch(ctx context.Context, rev, ref string) error {
	_, err := r.Checkout(ctx, rev, CheckoutOptions{NewBranch: ref})
	return err
}

// CloneOptions configure Clone.
type CloneOptions struct {
	Branch string   // default: main, else the first branch
	Paths  []string // a sparse clone: file content only under these paths
}

// cleanPaths checks repository-relative paths given by a user.
func cleanPaths(ps []string) ([]string, error) {
	var out []string
	for _, p := range ps {
		c := path.Clean(strings.TrimSuffix(filepath.ToSlash(p), "/"))
		if c == "." {
			c = ""
		}
		if strings.HasPrefix(c, "/") || c == ".." || strings.HasPrefix(c, "../") || c == DirName || strings.HasPrefix(c, DirName+"/") {
			return nil, fmt.Errorf("%q: want a path inside the repository: %w", p, ErrPathspec)
		}
		out = append(out, c)
	}
	return out, nil
}

// Clone creates a repository in dir from a remote (named origin) and
// checks out a branch. If it fails, what it created is removed.
func Clone(ctx context.Context, c remote.Config, dir string, co CloneOptions, o Options) (r *Repo, res *FetchResult, err error) {
	c, err = c.Normalize()
	if err != nil {
		return nil, nil, err
	}
	created := false
	if ents, err := os.ReadDir(dir); err == nil {
		if len(ents) > 0 {
			return nil, nil, fmt.Errorf("clone: %s exists and is not empty: %w", dir, ErrExists)
		}
	} else if errors.Is(err, os.ErrNotExist) {
		created = true
	} else {
		return nil, nil, fmt.Errorf("clone: %w", err)
	}
	root, err := Init(ctx, dir)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err == nil {
			return
		}
		if r != nil {
			r.Close()
			r = nil
		}
		if created {
			os.RemoveAll(root)
		} else {
			ents, _ := os.ReadDir(root)
			for _, e := range ents {
				os.RemoveAll(filepath.Join(root, e.Name()))
			}
		}
	}()
	r, err = Open(ctx, root, o)
	if err != nil {
		return nil, nil, err
	}
	if err = r.AddRemote("origin", c); err != nil {
		return nil, nil, err
	}
	if len(co.Paths) > 0 {
		ps, err := cleanPaths(co.Paths)
		if err != nil {
			return nil, nil, fmt.Errorf("clone --path: %w", err)
		}
		if _, err = r.addSparse(ps); err != nil {
			return nil, nil, err
		}
	}
	res, err = r.Fetch(ctx, "origin")
	if err != nil {
		return nil, nil, err
	}
	branches, names, err := r.Store.Refs(ctx, "refs/remotes/origin/")
	if err != nil {
		return nil, nil, err
	}
	if len(names) == 0 {
		if co.Branch != "" {
			return nil, nil, fmt.Errorf("clone: remote has no branch %s", co.Branch)
		}
		return r, res, nil // an empty remote: an empty repository
	}
	b := co.Branch
	if b == "" {
		b = "main"
		if _, ok := branches["refs/remotes/origin/main"]; !ok {
			b = strings.TrimPrefix(names[0], "refs/remotes/origin/")
		}
	}
	_, ok := branches["refs/remotes/origin/"+b]
	if !ok {
		return nil, nil, fmt.Errorf("clone: remote has no branch %s", b)
	}
	if err = r.checkoutNewBranch(ctx, "refs/remotes/origin/"+b, "refs/heads/"+b); err != nil {
		return nil, nil, err
	}
	return r, res, nil
}
