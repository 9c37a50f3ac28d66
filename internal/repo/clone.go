package repo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dxdata/dx/remote"
)

// CloneOptions configure Clone.
type CloneOptions struct {
	Branch string   // default: main, else the first branch
	Paths  []string // a sparse clone: file content only under these paths
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
