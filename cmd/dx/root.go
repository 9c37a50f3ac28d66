package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/hugeheap"
	"github.com/dxdata/dx/internal/progress"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/store"
)

// app holds the global flags and output streams of one invocation.
type app struct {
	stdout, stderr io.Writer
	dir            string
	quiet          bool
	stats          bool
	cpuprofile     string
	memprofile     string
	trace          string
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "dx",
		Short:         "dx versions data like git versions code",
		Long:          "dx versions datasets: content-defined chunks, a Merkle DAG of commits, branches, tags and diffs.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVarP(&a.dir, "directory", "C", ".", "run as if dx was started in this directory")
	pf.BoolVarP(&a.quiet, "quiet", "q", false, "print only errors; no progress")
	pf.BoolVar(&a.stats, "stats", false, "print the store's work counters as JSON on stderr at exit")
	_ = pf.MarkHidden("stats")
	pf.StringVar(&a.cpuprofile, "cpuprofile", "", "write a CPU profile to this file")
	_ = pf.MarkHidden("cpuprofile")
	pf.StringVar(&a.memprofile, "memprofile", "", "write an allocation profile to this file at exit")
	_ = pf.MarkHidden("memprofile")
	pf.StringVar(&a.trace, "trace", "", "write an execution trace to this file (go tool trace)")
	_ = pf.MarkHidden("trace")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if cmd.Annotations[heapAnnotation] == "big" {
			// On a goroutine: its allocation and GC, several ms, overlap
			// the repository's opening, which waits on the disk.
			go hugeheap.Grow(bigHeapBytes)
		}
		if a.memprofile != "" {
			runtime.MemProfileRate = 64 << 10
		}
		if a.trace != "" {
			f, err := os.Create(a.trace)
			if err != nil {
				return err
			}
			if err := trace.Start(f); err != nil {
				return err
			}
		}
		if a.cpuprofile == "" {
			return nil
		}
		f, err := os.Create(a.cpuprofile)
		if err != nil {
			return err
		}
		return pprof.StartCPUProfile(f)
	}

	root.AddCommand(
		a.initCmd(), a.statusCmd(), a.commitCmd(), a.logCmd(), a.showCmd(), a.checkoutCmd(),
		a.branchCmd(), a.tagCmd(), a.diffCmd(), a.mergeCmd(), a.catCmd(), a.fsckCmd(), a.gcCmd(), a.duCmd(), a.debugCmd(),
		a.remoteCmd(), a.pushCmd(), a.fetchCmd(), a.pullCmd(), a.cloneCmd(), a.modelCmd(), a.lineageCmd(), a.deltaCmd(),
		a.subscribeCmd(), a.subscribeExecCmd(), a.replicateCmd(), a.checkCmd(), a.profileCmd(), a.driftCmd(),
		a.uiCmd(), a.serveCmd(),
	)
	return root
}

// Commands annotated bigHeap (those that scan the worktree or the store,
// row diffs, merges, profiles and drift, and dx serve, whose first row
// lookup in a table lays out its tens of thousands of chunks) build heaps
// of several MiB, up to hundreds, in a fraction of a second: their first
// bigHeapBytes of heap are backed by huge pages (see internal/hugeheap),
// which saves them most of their page faults. The range costs the same
// whatever its size, and only what the heap uses of it is memory. A small
// command (log, branch) would pay more for it than it saves, so it is not
// annotated.
var bigHeap = map[string]string{heapAnnotation: "big"}

const (
	heapAnnotation = "dx.heap"
	bigHeapBytes   = 1 << 30
)

// args wraps a cobra positional-args validator so its errors are usage errors.
func args(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := v(cmd, a); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// withRepo opens the repository for a command that writes to it.
func (a *app) withRepo(ctx context.Context, fn func(r *repo.Repo) error) error {
	return a.openRepo(ctx, store.ReadWrite, fn)
}

// withRepoFetching is withRepo for a command that fetches from remote
// name ("" the default one): the remote's heads are read while the
// repository opens.
func (a *app) withRepoFetching(ctx context.Context, name string, fn func(r *repo.Repo) error) error {
	return a.openRepoDialing(ctx, store.ReadWrite, &repo.Dial{Remote: name}, fn)
}

// withRepoRead opens the repository for a command that only reads it: such
// commands share it and work on a full disk.
func (a *app) withRepoRead(ctx context.Context, fn func(r *repo.Repo) error) error {
	return a.openRepo(ctx, store.ReadOnly, fn)
}

// openRepo opens the repository for one command and closes it after,
// printing store counters when --stats is set.
func (a *app) openRepo(ctx context.Context, access store.Access, fn func(r *repo.Repo) error) error {
	return a.openRepoDialing(ctx, access, nil, fn)
}

// openRepoDialing is openRepo that reads the heads of a remote the
// command will fetch from (dial) while the repository opens.
func (a *app) openRepoDialing(ctx context.Context, access store.Access, dial *repo.Dial, fn func(r *repo.Repo) error) error {
	opts, err := a.repoOptions(access)
	if err != nil {
		return err
	}
	opts.DetachTrash, opts.Dial = true, dial
	r, err := repo.Open(ctx, a.dir, opts)
	if err != nil {
		return err
	}
	ferr := fn(r)
	var cerr error
	if ferr != nil {
		cerr = r.Store.Abandon()
	} else {
		cerr = r.Close()
	}
	freeTrash(r.Root)
	if a.stats {
		b, _ := json.Marshal(r.Store.Stats().Snapshot())
		fmt.Fprintln(a.stderr, string(b))
	}
	if ferr != nil {
		return ferr
	}
	return cerr
}

// repoOptions are the options every command opens the repository with.
func (a *app) repoOptions(access store.Access) (repo.Options, error) {
	opts := repo.Options{Progress: progress.ForStderr(a.quiet), Warn: a.warn, Store: store.Options{Access: access}}
	if v := os.Getenv("DX_DATE"); v != "" {
		t, err := parseDate(v)
		if err != nil {
			return repo.Options{}, err
		}
		opts.Now = func() time.Time { return t }
	}
	return opts, nil
}

// parseDate reads DX_DATE, which pins the time of new commits (like git's
// GIT_COMMITTER_DATE) for reproducible IDs: RFC 3339 or @unix-seconds.
func parseDate(v string) (time.Time, error) {
	if strings.HasPrefix(v, "@") {
		n, err := strconv.ParseInt(v[1:], 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("DX_DATE %q: want RFC 3339 or @unix-seconds", v)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("DX_DATE %q: want RFC 3339 or @unix-seconds", v)
	}
	return t, nil
}
