package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/progress"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/remote"
)

// cloneOptions are the arguments and flags of dx clone.
type cloneOptions struct {
	remote remote.Config
	dir    string // the last element of the URL when empty
	branch string
	paths  []string // a sparse clone of these paths
	asJSON bool
}

func (a *app) cloneCmd() *cobra.Command {
	var o cloneOptions
	c := &cobra.Command{
		Annotations: bigHeap,
		Use:         "clone URL [DIR] [--path P]…",
		Short:       "Create a repository from a remote and check out a branch",
		Args:        args(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.remote.URL = args[0]
			if len(args) == 2 {
				o.dir = args[1]
			}
			return a.runClone(cmd.Context(), o)
		},
	}
	remoteFlags(c, &o.remote)
	c.Flags().StringVarP(&o.branch, "branch", "b", "", "branch to check out (default main)")
	c.Flags().StringArrayVar(&o.paths, "path", nil, "a sparse clone: fetch and check out only this path (repeatable)")
	c.Flags().BoolVar(&o.asJSON, "json", false, "print as JSON")
	return c
}

// runClone creates a repository from a remote and checks out a branch.
func (a *app) runClone(ctx context.Context, o cloneOptions) error {
	dir := o.dir
	if dir == "" {
		n, err := o.remote.Normalize()
		if err != nil {
			return err
		}
		dir = defaultCloneDir(n.URL)
	}
	start := time.Now()
	r, res, err := repo.Clone(ctx, o.remote, dir, repo.CloneOptions{Branch: o.branch, Paths: o.paths}, repo.Options{Progress: progress.ForStderr(a.quiet)})
	if err != nil {
		return err
	}
	defer r.Close()
	if o.asJSON {
		return a.printJSON(struct {
			*repo.FetchResult
			Seconds float64 `json:"seconds"`
		}{res, time.Since(start).Seconds()})
	}
	a.printf("Cloned %s into %s: %d objects, %s received in %.1fs\n", o.remote.URL, dir, res.Objects, humanBytes(res.BytesRead), time.Since(start).Seconds())
	return r.Close()
}

// defaultCloneDir is the last path element of the URL, like git.
func defaultCloneDir(u string) string {
	for len(u) > 0 && u[len(u)-1] == '/' {
		u = u[:len(u)-1]
	}
	for i := len(u) - 1; i >= 0; i-- {
		if u[i] == '/' {
			return u[i+1:]
		}
	}
	return u
}
