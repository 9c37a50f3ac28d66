package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

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

func (r *Repo) loadConfig() (*config, error) { return readConfig(r.Root) }

// readConfig reads the settings of the repository at root; commands that
// only need a remote's address read them without opening the store.
func readConfig(root string) (*config, error) {
	c := &config{}
	path := filepath.Join(root, DirName, configFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
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

func (r *Repo) remoteCache(name string) string { return remoteCacheAt(r.Root, name) }

// remoteCacheAt is where the repository at root caches what it knows of
// remote name (its pack indexes).
func remoteCacheAt(root, name string) string {
	return filepath.Join(root, DirName, "remotes", name)
}

// remoteNamed resolves a remote name ("" means origin, or the only one).
func (r *Repo) remoteNamed(name string) (string, remote.Config, error) {
	return remoteNamedAt(r.Root, name)
}

// remoteNamedAt resolves a remote name of the repository at root.
func remoteNamedAt(root, name string) (string, remote.Config, error) {
	cfg, err := readConfig(root)
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

// connect opens a remote's backend and loads what it holds, to read or
// (write) to push to it. A fetch reads the remote's refs first, then its
// index (connectRefs).
func (r *Repo) connect(ctx context.Context, name string, write bool) (string, remote.Backend, *remote.Index, error) {
	name, c, err := r.remoteNamed(name)
	if err != nil {
		return "", nil, nil, err
	}
	be, err := openChecked(ctx, c)
	if err != nil {
		return "", nil, nil, err
	}
	ix, err := r.remoteIndex(ctx, name, be, write)
	if err != nil {
		return "", nil, nil, err
	}
	return name, be, ix, nil
}

// connectRefs opens a remote to fetch from: its refs, then its index
// (remote.ReadHeads), read while the repository opened when it was asked
// to (Options.Dial).
func (r *Repo) connectRefs(ctx context.Context, name string) (string, remote.Backend, []remote.Ref, *remote.Index, error) {
	if d := r.takeDial(name); d != nil {
		return d.wait()
	}
	return readHeads(ctx, r.Root, name)
}

// readHeads opens remote name of the repository at root and reads its
// heads; it needs nothing of the store.
func readHeads(ctx context.Context, root, name string) (string, remote.Backend, []remote.Ref, *remote.Index, error) {
	name, c, err := remoteNamedAt(root, name)
	if err != nil {
		return "", nil, nil, nil, err
	}
	be, err := remote.Open(ctx, c)
	if err != nil {
		return "", nil, nil, nil, err
	}
	refs, ix, err := remote.ReadHeads(ctx, be, filepath.Join(remoteCacheAt(root, name), "index"))
	if err != nil {
		return "", nil, nil, nil, err
	}
	return name, be, refs, ix, nil
}

// remoteIndex loads the index of remote name, to read or (write) to push.
func (r *Repo) remoteIndex(ctx context.Context, name string, be remote.Backend, write bool) (*remote.Index, error) {
	load := remote.LoadIndex
	if write {
		load = remote.LoadIndexToWrite
	}
	return load(ctx, be, filepath.Join(r.remoteCache(name), "index"))
}

// OpenRemote opens a configured remote's backend ("" means origin, or the
// only one) and checks that it answers. The backend outlives r: a
// follower polls it without holding the repository.
func (r *Repo) OpenRemote(ctx context.Context, name string) (string, remote.Backend, error) {
	name, c, err := r.remoteNamed(name)
	if err != nil {
		return "", nil, err
	}
	be, err := openChecked(ctx, c)
	if err != nil {
		return "", nil, err
	}
	return name, be, nil
}

func (r *Repo) transferOptions() remote.Options {
	return remote.Options{Progress: r.opts.Progress}
}
