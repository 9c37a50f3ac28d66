package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/remote/replicate"
	"github.com/dxdata/dx/remote/wake"
)

// ErrSameRemote: a replication's source and destination are one remote.
var ErrSameRemote = errors.New("source and destination are the same remote")

// ReplicaSide is one side of a replication as the user named it: a remote
// of the repository, or a URL with how to reach it.
type ReplicaSide struct {
	Arg       string // a remote's name, s3://bucket/prefix, file:///dir or a path
	Endpoint  string // for a URL
	Region    string // for a URL
	PathStyle bool   // for a URL
}

// ReplicateOptions configure Replicate.
type ReplicateOptions struct {
	Dir      string // where dx runs: remote names are looked up in its repository
	Src, Dst ReplicaSide
	replicate.Options
}

// Replicate copies SRC's refs (and what they need) to DST. It runs outside
// a repository when both sides are URLs, and never opens the store: it
// only reads remote names from the repository's config and keeps their
// index caches (the ones push keeps).
func Replicate(ctx context.Context, o ReplicateOptions) (*replicate.Result, error) {
	src, dst, opts, err := openReplicas(ctx, o)
	if err != nil {
		return nil, err
	}
	return replicate.Replicate(ctx, src, dst, opts)
}

// ReplicateWatch replicates as Replicate does, then again each time SRC's
// refs move, until ctx ends (see replicate.Watch).
func ReplicateWatch(ctx context.Context, o ReplicateOptions, wo wake.Options, report func(replicate.WatchEvent)) error {
	src, dst, opts, err := openReplicas(ctx, o)
	if err != nil {
		return err
	}
	return replicate.Watch(ctx, src, dst, opts, wo, report)
}

// openReplicas opens and checks both sides of a replication, refusing one
// remote named twice.
func openReplicas(ctx context.Context, o ReplicateOptions) (src, dst remote.Backend, opts replicate.Options, err error) {
	srcCfg, srcCache, err := replicaConfig(o.Dir, o.Src)
	if err != nil {
		return nil, nil, opts, err
	}
	dstCfg, dstCache, err := replicaConfig(o.Dir, o.Dst)
	if err != nil {
		return nil, nil, opts, err
	}
	srcID, err := srcCfg.Identity()
	if err != nil {
		return nil, nil, opts, err
	}
	dstID, err := dstCfg.Identity()
	if err != nil {
		return nil, nil, opts, err
	}
	if srcID == dstID {
		return nil, nil, opts, fmt.Errorf("replicate: %s: %w", srcCfg.URL, ErrSameRemote)
	}
	if src, err = openChecked(ctx, srcCfg); err != nil {
		return nil, nil, opts, err
	}
	if dst, err = openChecked(ctx, dstCfg); err != nil {
		return nil, nil, opts, err
	}
	opts = o.Options
	opts.SrcCache, opts.DstCache = srcCache, dstCache
	return src, dst, opts, nil
}

// replicaConfig resolves one side: a URL (anything with "://", or a path
// starting with "/" or "." or holding a separator) or the name of a remote
// of the repository holding dir, with its index cache.
func replicaConfig(dir string, s ReplicaSide) (remote.Config, string, error) {
	if strings.Contains(s.Arg, "://") || strings.HasPrefix(s.Arg, ".") || strings.ContainsRune(s.Arg, '/') ||
		strings.ContainsRune(s.Arg, filepath.Separator) {
		c := remote.Config{URL: s.Arg, Endpoint: s.Endpoint, Region: s.Region}
		// --path-style names how to reach the S3 sides; a directory
		// has no buckets.
		c.PathStyle = s.PathStyle && strings.HasPrefix(strings.ToLower(strings.TrimSpace(s.Arg)), "s3:")
		c, err := c.Normalize()
		if err != nil {
			return c, "", err
		}
		return c, urlCache(c), nil
	}
	if s.Endpoint != "" || s.Region != "" {
		return remote.Config{}, "", fmt.Errorf("replicate: remote %s has its own endpoint and region; the flags apply to URLs", s.Arg)
	}
	root, err := Find(dir)
	if errors.Is(err, ErrNotRepo) {
		return remote.Config{}, "", fmt.Errorf("%q is not a URL, and outside a repository there are no remote names (use s3://bucket/prefix or file:///path): %w", s.Arg, ErrNoRemote)
	}
	if err != nil {
		return remote.Config{}, "", err
	}
	cfg, err := readConfig(root)
	if err != nil {
		return remote.Config{}, "", err
	}
	c, ok := cfg.Remotes[s.Arg]
	if !ok {
		return remote.Config{}, "", fmt.Errorf("%q: %w (nor a URL: use s3://bucket/prefix, file:///path or ./dir)", s.Arg, ErrNoRemote)
	}
	cache := filepath.Join(remoteCacheAt(root, s.Arg), "index")
	if err := os.MkdirAll(cache, 0o777); err != nil {
		return remote.Config{}, "", fmt.Errorf("remote index cache: %w", err)
	}
	return c, cache, nil
}

// urlCache is where the pack indexes of a remote named by URL are cached
// between runs: under the user's cache directory, by the remote's
// identity. Indexes are immutable and checked against the remote's listing
// on every load, so a stale cache costs nothing but disk. Empty when there
// is no cache directory: each run then reads the indexes again.
func urlCache(c remote.Config) string {
	id, err := c.Identity()
	base, cerr := os.UserCacheDir()
	if err != nil || cerr != nil {
		return ""
	}
	sum := sha256.Sum256([]byte(id))
	dir := filepath.Join(base, "dx", "remotes", hex.EncodeToString(sum[:12]), "index")
	if os.MkdirAll(dir, 0o777) != nil {
		return ""
	}
	return dir
}

// openChecked opens a remote and makes one cheap request, so that wrong
// credentials, a missing bucket or a silent endpoint stop the command
// with one line before any work.
func openChecked(ctx context.Context, c remote.Config) (remote.Backend, error) {
	be, err := remote.Open(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := remote.Check(ctx, be); err != nil {
		return nil, err
	}
	return be, nil
}
