package main

import (
	"os"
	"path/filepath"

	"github.com/dxdata/dx/internal/repo"
)

// base is the directory user paths are relative to: -C, itself relative
// to the working directory.
func (a *app) base() string {
	if filepath.IsAbs(a.dir) {
		return a.dir
	}
	return filepath.Join(cwd(), a.dir)
}

// relPaths maps user paths to repository paths.
func (a *app) relPaths(r *repo.Repo, ps []string) ([]string, error) {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		rel, err := r.Rel(a.base(), p)
		if err != nil {
			return nil, err
		}
		out = append(out, rel)
	}
	return out, nil
}

// cwd is the working directory ("" if it is gone).
func cwd() string {
	d, _ := os.Getwd()
	return d
}
