package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/internal/serve"
	"github.com/dxdata/dx/store"
)

// serveOptions are the flags of dx serve.
type serveOptions struct {
	listen      string
	anonymous   bool
	repos       []string
	credentials string
	cacheMiB    int64
	cacheDir    string
	cacheSize   string
	region      string
}

// fileCacheDir is where dx serve keeps decoded copies of files, under the
// first repository's .dx directory, unless --cache-dir says otherwise.
const fileCacheDir = repo.DirName + "/cache/serve"

func (a *app) serveCmd() *cobra.Command {
	var o serveOptions
	c := &cobra.Command{
		Annotations: bigHeap,
		Use:         "serve [--listen 127.0.0.1:8080] [--anonymous] [--repo NAME=DIR]... [--credentials FILE]",
		Short:       "Serve every version of repositories through an S3-compatible read gateway",
		Long: "Serves repositories as S3 buckets, read-only: the bucket is the repository (named after\n" +
			"its directory, or NAME with --repo NAME=DIR, repeated for several); a key is REF/PATH,\n" +
			"REF a branch, a tag, a full commit id or model:NAME@VERSION (the data it was trained on).\n" +
			"Requests are signed with SigV4 against the key pair in " + serve.EnvAccessKey + " and\n" +
			serve.EnvSecretKey + ", or the pairs of --credentials FILE (ACCESS_KEY SECRET_KEY a line);\n" +
			"--anonymous also serves unsigned requests, on a loopback address only. The repository\n" +
			"is opened read-only for each request's reads, so dx commands keep working meanwhile.\n" +
			"Under /v1/ it answers JSON: refs, log/REV, tree/REV/PATH, rows/REV/PATH?key=K (one row\n" +
			"of a keyed table), diff/FROM/TO/PATH (row diffs as JSON lines), models and lineage.\n" +
			"A whole GET of a file of 1 MiB or more keeps its decoded bytes in --cache-dir (by\n" +
			"default .dx/cache/serve of the first repository), up to --cache-size, and later GETs\n" +
			"of that content, whole or ranged, are sent from there.\n" +
			"Prints the address it listens on, and serves until interrupted.",
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runServe(cmd.Context(), o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address to listen on (port 0: any free port)")
	f.BoolVar(&o.anonymous, "anonymous", false, "serve unsigned requests too (loopback addresses only)")
	f.StringArrayVar(&o.repos, "repo", nil, "serve the repository in DIR as bucket NAME (NAME=DIR, repeatable)")
	f.StringVar(&o.credentials, "credentials", "", "file of accepted key pairs, one \"ACCESS_KEY SECRET_KEY\" a line")
	f.Int64Var(&o.cacheMiB, "cache-mib", 256, "MiB of decoded chunks kept in memory for all requests")
	f.StringVar(&o.cacheDir, "cache-dir", "", "directory of the decoded copies of files (default: "+fileCacheDir+" in the first repository)")
	f.StringVar(&o.cacheSize, "cache-size", "4GiB", "disk space for decoded copies of files (0: keep none)")
	f.StringVar(&o.region, "region", "us-east-1", "the region GetBucketLocation answers")
	return c
}

// runServe serves the repositories until ctx ends.
func (a *app) runServe(ctx context.Context, o serveOptions) error {
	opts := serve.Options{Anonymous: o.anonymous, CacheBytes: o.cacheMiB << 20, Region: o.region}
	if o.cacheMiB <= 0 {
		return usageError{fmt.Errorf("--cache-mib must be positive")}
	}
	fileBytes, err := parseByteSize(o.cacheSize)
	if err != nil {
		return usageError{fmt.Errorf("--cache-size: %w", err)}
	}
	creds, err := serveCredentials(o.credentials)
	if err != nil {
		return err
	}
	opts.Credentials = creds
	type served struct{ name, dir string }
	list := []served{{dir: a.dir}} // named after its directory
	if len(o.repos) > 0 {
		list = nil
		for _, spec := range o.repos {
			name, dir, ok := strings.Cut(spec, "=")
			if !ok || name == "" || dir == "" {
				return usageError{fmt.Errorf("--repo %q: want NAME=DIR", spec)}
			}
			list = append(list, served{name, dir})
		}
	}
	var roots []string
	for _, s := range list {
		root, err := repo.Find(s.dir)
		if err != nil {
			return fmt.Errorf("%s: %w", s.dir, err)
		}
		roots = append(roots, root)
		if s.name == "" {
			s.name = filepath.Base(root)
		}
		opts.Repos = append(opts.Repos, serve.Repo{Name: s.name, Open: func(ctx context.Context) (*repo.Repo, error) {
			return repo.Open(ctx, root, repo.Options{Store: store.Options{Access: store.ReadOnly}})
		}})
	}
	if err := opts.CheckListen(o.listen); err != nil {
		return usageError{err}
	}
	if err := opts.Validate(); err != nil {
		return usageError{err}
	}
	if fileBytes > 0 {
		opts.FileCacheBytes, opts.FileCacheDir = fileBytes, o.cacheDir
		if o.cacheDir == "" {
			// The default place may not be writable (a repository
			// served by another user): then no copies are kept.
			opts.FileCacheDir = filepath.Join(roots[0], filepath.FromSlash(fileCacheDir))
			if err := os.MkdirAll(opts.FileCacheDir, 0o755); err != nil {
				fmt.Fprintf(a.stderr, "dx serve: keeping no decoded copies of files: %v\n", err)
				opts.FileCacheDir = ""
			}
		}
	}
	srv, err := serve.New(opts)
	if err != nil {
		return err
	}
	// The chunk cache and a margin for the requests in flight: the
	// garbage collector works harder near it rather than let the heap
	// double (GOMEMLIMIT, if set, wins).
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(opts.CacheBytes + serveMemoryMargin)
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	names := make([]string, len(opts.Repos))
	for i, r := range opts.Repos {
		names[i] = r.Name
	}
	fmt.Fprintf(a.stdout, "serving %s on http://%s\n", strings.Join(names, ", "), ln.Addr())
	err = srv.Run(ctx, ln)
	if a.stats {
		b, _ := json.Marshal(srv.Snapshot())
		fmt.Fprintln(a.stderr, string(b))
	}
	return err
}

// serveMemoryMargin is the soft memory limit of dx serve beyond its chunk
// cache.
const serveMemoryMargin = 128 << 20

// serveCredentials reads the accepted key pairs from the environment and
// the --credentials file.
func serveCredentials(file string) (map[string]string, error) {
	creds := map[string]string{}
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if creds, err = serve.ReadCredentials(f, file); err != nil {
			return nil, usageError{err}
		}
	}
	ak, sk := os.Getenv(serve.EnvAccessKey), os.Getenv(serve.EnvSecretKey)
	if (ak == "") != (sk == "") {
		return nil, usageError{fmt.Errorf("set both %s and %s, or neither: %w", serve.EnvAccessKey, serve.EnvSecretKey, serve.ErrCredentials)}
	}
	if ak != "" {
		creds[ak] = sk
	}
	return creds, nil
}
