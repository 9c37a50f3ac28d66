package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/remote/subscribe"
	"github.com/dxdata/dx/store"
)

// subscribeOptions are the arguments and flags of dx subscribe.
type subscribeOptions struct {
	follow subscribe.Options
	status bool
	retry  bool
	asJSON bool
}

func (a *app) subscribeCmd() *cobra.Command {
	var o subscribeOptions
	// Not annotated bigHeap: a subscriber is long-lived and mostly idle.
	c := &cobra.Command{
		Use:   "subscribe REMOTE [BRANCH...] [--model NAME@STAGE]... --exec CMD [--once] [--interval D] [--refs-interval D] [--into LOCALBRANCH] | --status | --retry [REMOTE [BRANCH...]]",
		Short: "Follow branches of a remote: fetch each new head and run CMD on its delta",
		Long: "Follows branches of a remote. On MinIO, bucket notifications on the remote's events/\n" +
			"wake it; elsewhere it lists events/ every --interval (one LIST from the last key seen).\n" +
			"Events are hints: each wake, and every --refs-interval in any case, it reads the\n" +
			"followed refs (a conditional GET), so a lost event delays a head but never hides it.\n" +
			"The start line on stderr says which it uses. On a new head it\n" +
			"fetches only the new objects, moves refs/remotes/REMOTE/BRANCH (and --into's branch),\n" +
			"writes the delta from the last handled commit (as dx delta --out does) and runs CMD with\n" +
			"sh -c and DX_REMOTE, DX_BRANCH, DX_OLD, DX_NEW, DX_DELTA set. The cursor in\n" +
			".dx/subscribe moves only once CMD exits 0; a failing CMD is retried with back-off.\n" +
			"Without a cursor the first delta runs from nothing: CMD sees every row once.\n" +
			"--model NAME@STAGE follows a model's stage the same way: on each move (dx model promote\n" +
			"or demote, pushed or replicated there) the version it is on is fetched, its artifact\n" +
			"checked out into DX_MODEL_DIR, and CMD runs with DX_MODEL, DX_STAGE, DX_MODEL_VERSION\n" +
			"and DX_MODEL_ID (all empty but the names after a demotion).\n" +
			"--status lists each cursor, its last error and the commits that wait (when fetched).\n" +
			"--retry re-runs the failed deltas now: a running subscriber of the remote is asked to\n" +
			"(SIGUSR1); without one, dx handles them once with --exec or the command last used.",
		Args: args(func(cmd *cobra.Command, args []string) error {
			if o.status {
				return cobra.NoArgs(cmd, args)
			}
			if o.retry {
				return nil
			}
			if len(o.follow.Models) > 0 {
				return cobra.MinimumNArgs(1)(cmd, args)
			}
			return cobra.MinimumNArgs(2)(cmd, args)
		}),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.status {
				return a.runSubscribeStatus(cmd.Context(), o.asJSON)
			}
			if o.retry {
				if len(args) > 0 {
					o.follow.Remote, o.follow.Branches = args[0], args[1:]
				}
				return a.runSubscribeRetry(cmd.Context(), o.follow)
			}
			if o.follow.Command == "" {
				return usageError{fmt.Errorf("subscribe: --exec CMD is required")}
			}
			o.follow.Remote, o.follow.Branches = args[0], args[1:]
			return a.runSubscribe(cmd.Context(), o.follow)
		},
	}
	c.Flags().StringVar(&o.follow.Command, "exec", "", "run CMD (with sh -c) on each new head")
	c.Flags().BoolVar(&o.follow.Once, "once", false, "handle what is new once, then exit")
	c.Flags().DurationVar(&o.follow.Interval, "interval", subscribe.DefaultInterval, "how often to list the remote's events/ when it offers no notifications")
	c.Flags().DurationVar(&o.follow.RefsInterval, "refs-interval", subscribe.DefaultRefsInterval, "the longest time between two reads of the followed refs")
	c.Flags().StringArrayVar(&o.follow.Models, "model", nil, "follow a model's stage NAME@STAGE: CMD runs on each move with DX_MODEL_DIR (the artifact checked out), DX_MODEL, DX_STAGE, DX_MODEL_VERSION")
	c.Flags().BoolVar(&o.follow.Poll, "poll", false, "list events/ every --interval even where the server offers notifications")
	c.Flags().StringVar(&o.follow.From, "from", "", "a branch without a cursor starts after this commit: head (only what is pushed next) or a full commit id")
	c.Flags().StringVar(&o.follow.Into, "into", "", "move this local branch forward to each new head too")
	c.Flags().BoolVar(&o.follow.AcceptRewrites, "accept-rewrites", false, "follow a branch rewritten on the remote (force-pushed)")
	c.Flags().BoolVar(&o.status, "status", false, "list the cursors, their last errors and what is pending")
	c.Flags().BoolVar(&o.retry, "retry", false, "re-run the failed deltas now")
	c.Flags().BoolVar(&o.asJSON, "json", false, "with --status, print as JSON")
	return c
}

// runSubscribe follows the remote's branches until a signal (or, with
// Once, for one pass).
func (a *app) runSubscribe(ctx context.Context, o subscribe.Options) error {
	stateDir, err := subscribeDir(a.dir)
	if err != nil {
		return err
	}
	o = a.subscribeIO(o, stateDir)
	retry := make(chan struct{}, 1)
	stop := notifyRetry(retry)
	defer stop()
	o.RetryNow = retry
	return subscribe.Run(ctx, a.subscribeOpener(store.ReadWrite), o)
}

// runSubscribeRetry re-runs the failed deltas: through the running
// subscriber, or here, once.
func (a *app) runSubscribeRetry(ctx context.Context, o subscribe.Options) error {
	stateDir, err := subscribeDir(a.dir)
	if err != nil {
		return err
	}
	o = a.subscribeIO(o, stateDir)
	// While this process handles the deltas it holds the subscriber's
	// lock, and another --retry may signal it.
	stop := notifyRetry(make(chan struct{}, 1))
	defer stop()
	pid, err := subscribe.Retry(ctx, a.subscribeOpener(store.ReadWrite), o)
	if err == nil && pid != 0 {
		a.printf("asked the running subscriber (pid %d) to retry now\n", pid)
	}
	return err
}

// subscribeExecCmd is the runner of a subscriber's command (hidden): a
// process of its own, so that the command outlives a killed subscriber
// and the restarted one adopts its run instead of running it again.
func (a *app) subscribeExecCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "subscribe-exec RUN-RECORD",
		Short:  "Run a subscriber's command on one delta (used by dx subscribe)",
		Hidden: true,
		Args:   args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			// The command's exit status goes to the run's status file,
			// which the subscriber reads and reports.
			_, err := subscribe.ExecRun(cmd.Context(), args[0], a.stdout, a.stderr)
			return err
		},
	}
}

// subscribeIO sets where a subscriber keeps its state, runs its command
// and reports.
func (a *app) subscribeIO(o subscribe.Options, stateDir string) subscribe.Options {
	o.StateDir, o.WorkDir = stateDir, a.dir
	if self, err := os.Executable(); err == nil {
		o.Runner = []string{self, "subscribe-exec"}
	}
	o.Stdout, o.Stderr = a.stdout, a.stderr
	o.Report = func(e subscribe.Event) {
		switch e.Kind {
		case subscribe.Watching:
			// How it wakes is a note on stderr, apart from what it handles;
			// with --once it wakes once, and an error stays one line.
			if !a.quiet && !o.Once {
				fmt.Fprintln(a.stderr, "dx: "+oneLine(e.String()))
			}
		case subscribe.Handled:
			a.printf("%s\n", e)
		default:
			a.warn(e.String())
		}
	}
	return o
}

// runSubscribeStatus prints each cursor and what waits behind it.
func (a *app) runSubscribeStatus(ctx context.Context, asJSON bool) error {
	stateDir, err := subscribeDir(a.dir)
	if err != nil {
		return err
	}
	sts, err := subscribe.Status(ctx, a.subscribeOpener(store.ReadOnly), stateDir)
	if err != nil {
		return err
	}
	if asJSON {
		if sts == nil {
			sts = []subscribe.BranchStatus{}
		}
		return a.printJSON(sts)
	}
	for _, st := range sts {
		line := fmt.Sprintf("%s %s: cursor %s", st.Remote, st.Branch, cursorName(st.Cursor))
		if !st.Handled.IsZero() {
			line += " (handled " + st.Handled.Local().Format(time.DateTime) + ")"
		}
		switch {
		case st.HeadError != "":
			line += "; head unknown: " + st.HeadError
		case st.Pending && len(st.PendingCommits) > 0:
			more := ""
			if st.MorePending {
				more = "+"
			}
			line += fmt.Sprintf("; pending: %d%s commits to head %s", len(st.PendingCommits), more, st.Head.Short())
		case st.Pending:
			line += "; pending: head " + st.Head.Short()
		default:
			line += "; up to date"
		}
		if st.LastError != "" {
			line += fmt.Sprintf("; last error (%d in a row", st.Failures)
			if !st.FailedHead.IsZero() {
				line += ", on " + st.FailedHead.Short()
			}
			line += "): " + st.LastError
		}
		fmt.Fprintln(a.stdout, oneLine(line))
		for _, pc := range st.PendingCommits {
			fmt.Fprintln(a.stdout, "  "+pc.ID.Short()+" "+oneLine(pc.Subject))
		}
	}
	return nil
}

// subscribeOpener opens the repository for each step of a subscriber.
func (a *app) subscribeOpener(access store.Access) subscribe.Opener {
	return func(ctx context.Context, fn func(subscribe.Repo) error) error {
		return a.openRepo(ctx, access, func(r *repo.Repo) error { return fn(r) })
	}
}

// subscribeDir is where the subscribers of the repository holding dir
// keep their cursors.
func subscribeDir(dir string) (string, error) {
	root, err := repo.Find(dir)
	if err != nil {
		return "", err
	}
	return filepath.Join(root, repo.DirName, "subscribe"), nil
}

// cursorName is a cursor's commit, or "none" before the first success.
func cursorName(id dag.ID) string {
	if id.IsZero() {
		return "none"
	}
	return id.Short()
}
