package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/progress"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/remote"
)

// remoteFlags are the options of an S3 remote.
func remoteFlags(c *cobra.Command, cfg *remote.Config) {
	c.Flags().StringVar(&cfg.Endpoint, "endpoint", "", "S3 endpoint, host:port or http(s)://host:port (default $AWS_ENDPOINT_URL, else AWS)")
	c.Flags().StringVar(&cfg.Region, "region", "", "S3 region (default $AWS_REGION)")
	c.Flags().BoolVar(&cfg.PathStyle, "path-style", false, "address buckets as endpoint/bucket (most local S3 servers)")
	c.Flags().BoolVar(&cfg.Insecure, "insecure", false, "plain http, for local servers")
}

func (a *app) remoteCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "remote",
		Short: "Manage remotes (s3://bucket/prefix or file:///path)",
		Long: "Remotes are S3 buckets (s3://bucket/prefix) or directories (file:///path).\n" +
			"Credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the AWS shared\n" +
			"credentials and config files (AWS_PROFILE); they are never stored in .dx/.",
	}
	var cfg remote.Config
	add := &cobra.Command{
		Use:   "add NAME URL",
		Short: "Add a remote",
		Args:  args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withRepo(cmd.Context(), func(r *repo.Repo) error {
				cfg.URL = args[1]
				return r.AddRemote(args[0], cfg)
			})
		},
	}
	remoteFlags(add, &cfg)
	var asJSON bool
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List remotes",
		Args:    args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withRepoRead(cmd.Context(), func(r *repo.Repo) error {
				rs, err := r.Remotes()
				if err != nil {
					return err
				}
				if asJSON {
					if rs == nil {
						rs = []repo.RemoteInfo{}
					}
					return a.printJSON(rs)
				}
				for _, x := range rs {
					extra := ""
					if x.Endpoint != "" {
						extra = " (endpoint " + x.Endpoint + ")"
					}
					fmt.Fprintf(a.stdout, "%s\t%s%s\n", x.Name, x.URL, extra)
				}
				return nil
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	rm := &cobra.Command{
		Use:     "remove NAME",
		Aliases: []string{"rm"},
		Short:   "Remove a remote and its remote-tracking branches",
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withRepo(cmd.Context(), func(r *repo.Repo) error {
				return r.RemoveRemote(cmd.Context(), args[0])
			})
		},
	}
	c.AddCommand(add, list, rm)
	return c
}

func (a *app) pushCmd() *cobra.Command {
	var o repo.PushOptions
	var asJSON bool
	c := &cobra.Command{
		Use:   "push [REMOTE] [BRANCH|TAG…] [--all] [--force]",
		Short: "Send branches to a remote (only the data it lacks)",
		Long: "Uploads the objects the remote lacks, packed, then moves each remote branch by\n" +
			"compare-and-swap. A branch that moved on the remote meanwhile is rejected\n" +
			"(non-fast-forward: pull first) unless --force.",
		Args: args(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return a.withRepo(ctx, func(r *repo.Repo) error {
				if len(args) > 0 {
					o.Remote, o.Refs = args[0], args[1:]
				}
				if o.All && len(o.Refs) > 0 {
					return usageError{errors.New("--all and branch names exclude each other")}
				}
				start := time.Now()
				res, err := r.Push(ctx, o)
				if res != nil {
					if asJSON {
						if jerr := a.printJSON(pushJSON(res, time.Since(start))); jerr != nil {
							return jerr
						}
					} else {
						for _, rr := range res.Refs {
							a.printf("%-11s %s %s..%s\n", rr.Status, repo.ShortRef(rr.Name), rr.Old.Short(), rr.New.Short())
						}
						a.printf("%d objects in %d packs, %s sent in %.1fs\n", res.Objects, res.Packs, humanBytes(res.BytesSent), time.Since(start).Seconds())
					}
				}
				return err
			})
		},
	}
	c.Flags().BoolVar(&o.All, "all", false, "push every branch, tag and model")
	c.Flags().BoolVarP(&o.Force, "force", "f", false, "allow updates that drop remote commits")
	c.Flags().IntVarP(&o.Jobs, "jobs", "j", 0, "parallel pack uploads (default 4)")
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return c
}

type refJSON struct {
	Name   string `json:"name"`
	Old    string `json:"old,omitempty"`
	New    string `json:"new"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

func pushJSON(res *remote.PushResult, d time.Duration) any {
	refs := []refJSON{}
	for _, rr := range res.Refs {
		j := refJSON{Name: rr.Name, New: rr.New.String(), Status: rr.Status}
		if !rr.Old.IsZero() {
			j.Old = rr.Old.String()
		}
		if rr.Err != nil {
			j.Error = rr.Err.Error()
		}
		refs = append(refs, j)
	}
	return struct {
		*remote.PushResult
		Refs    []refJSON `json:"refs"`
		Seconds float64   `json:"seconds"`
	}{res, refs, d.Seconds()}
}

func (a *app) fetchCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Annotations: bigHeap,
		Use:         "fetch [REMOTE]",
		Short:       "Download a remote's branches, tags and models (only the data missing here)",
		Args:        args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return a.withRepo(ctx, func(r *repo.Repo) error {
				name := ""
				if len(args) == 1 {
					name = args[0]
				}
				start := time.Now()
				res, err := r.Fetch(ctx, name)
				if err != nil {
					return err
				}
				if asJSON {
					if res.Refs == nil {
						res.Refs = []repo.RefChange{}
					}
					return a.printJSON(res)
				}
				printFetch(a, res, time.Since(start))
				return nil
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return c
}

func printFetch(a *app, res *repo.FetchResult, d time.Duration) {
	for _, rc := range res.Refs {
		switch {
		case rc.Note != "":
			a.printf("%s: %s\n", repo.ShortRef(rc.Name), rc.Note)
		case rc.Old.IsZero():
			a.printf("new         %s %s\n", repo.ShortRef(rc.Name), rc.New.Short())
		default:
			a.printf("updated     %s %s..%s\n", repo.ShortRef(rc.Name), rc.Old.Short(), rc.New.Short())
		}
	}
	a.printf("%d objects, %s received in %.1fs\n", res.Objects, humanBytes(res.BytesRead), d.Seconds())
}

func (a *app) pullCmd() *cobra.Command {
	var asJSON bool
	var paths []string
	c := &cobra.Command{
		Annotations: bigHeap,
		Use:         "pull [REMOTE] [--path P]…",
		Short:       "Fetch, then merge the remote's copy of the current branch",
		Long: "Fetch, then merge the remote's copy of the current branch (fast-forward when possible).\n" +
			"--path P makes the repository sparse, or widens it: only file content under the sparse\n" +
			"paths is fetched and checked out; everything outside them stays as HEAD has it.",
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return a.withRepo(ctx, func(r *repo.Repo) error {
				name := ""
				if len(args) == 1 {
					name = args[0]
				}
				start := time.Now()
				res, err := r.Pull(ctx, name, paths)
				if res == nil {
					return err
				}
				if asJSON {
					if jerr := a.printJSON(struct {
						Fetch *repo.FetchResult `json:"fetch"`
						Merge any               `json:"merge"`
					}{res.Fetch, mergeJSON(orEmpty(res.Merge))}); jerr != nil {
						return jerr
					}
				} else {
					printFetch(a, res.Fetch, time.Since(start))
					if res.Merge != nil {
						printMerge(a, "remote", "", res.Merge)
					}
				}
				if err == nil && res.Merge != nil && len(res.Merge.Conflicts) > 0 {
					return stoppedOnConflicts{}
				}
				return err
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	c.Flags().StringArrayVar(&paths, "path", nil, "fetch and check out only this path (repeatable; makes the repository sparse)")
	return c
}

func orEmpty(m *repo.MergeResult) *repo.MergeResult {
	if m == nil {
		return &repo.MergeResult{}
	}
	return m
}

func (a *app) cloneCmd() *cobra.Command {
	var cfg remote.Config
	var branch string
	var asJSON bool
	var paths []string
	c := &cobra.Command{
		Annotations: bigHeap,
		Use:         "clone URL [DIR] [--path P]…",
		Short:       "Create a repository from a remote and check out a branch",
		Args:        args(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg.URL = args[0]
			dir := ""
			if len(args) == 2 {
				dir = args[1]
			} else {
				n, err := cfg.Normalize()
				if err != nil {
					return err
				}
				dir = defaultCloneDir(n.URL)
			}
			start := time.Now()
			r, res, err := repo.Clone(ctx, cfg, dir, repo.CloneOptions{Branch: branch, Paths: paths}, repo.Options{Progress: progress.ForStderr(a.quiet)})
			if err != nil {
				return err
			}
			defer r.Close()
			if asJSON {
				return a.printJSON(struct {
					*repo.FetchResult
					Seconds float64 `json:"seconds"`
				}{res, time.Since(start).Seconds()})
			}
			a.printf("Cloned %s into %s: %d objects, %s received in %.1fs\n", args[0], dir, res.Objects, humanBytes(res.BytesRead), time.Since(start).Seconds())
			return r.Close()
		},
	}
	remoteFlags(c, &cfg)
	c.Flags().StringVarP(&branch, "branch", "b", "", "branch to check out (default main)")
	c.Flags().StringArrayVar(&paths, "path", nil, "a sparse clone: fetch and check out only this path (repeatable)")
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return c
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
