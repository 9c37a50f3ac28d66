package subscribe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/remote/wake"
)

// Errors a subscriber reports.
var (
	// ErrRewritten: a remote branch's new head does not descend from the
	// cursor (it was force-pushed); the branch is stopped.
	ErrRewritten = errors.New("rewritten on the remote")
	// ErrCommandFailed: the command exited non-zero (or could not start)
	// and, with Once, was not retried; the cursor did not move.
	ErrCommandFailed = errors.New("command failed")
	// ErrBusy: another subscriber follows the same remote from the same
	// repository.
	ErrBusy = errors.New("remote followed by another subscriber")
)

// DefaultInterval is how often a polling subscriber lists the remote's
// publish log (events/).
const DefaultInterval = wake.DefaultInterval

// DefaultRefsInterval is how often a subscriber reads the followed refs
// whatever the events say.
const DefaultRefsInterval = wake.DefaultRefsInterval

// maxBackoff bounds the wait before a failed step is retried.
const maxBackoff = 5 * time.Minute

// Options configure Run.
type Options struct {
	Remote   string   // the remote's name; "" means origin, or the only one
	Branches []string // the remote branches to follow (short names)
	// Models are model stages to follow, NAME@STAGE: the command runs
	// on each move with the artifact checked out.
	Models  []string
	Command string // run by sh -c on each new head
	// Into moves this local branch forward to each new head too (a
	// single followed branch only).
	Into     string
	Once     bool          // one wake, then return
	Interval time.Duration // between polls of events/; DefaultInterval when zero
	// RefsInterval is the longest time between two reads of the refs,
	// which catch a head whose event was lost; DefaultRefsInterval when
	// zero.
	RefsInterval time.Duration
	// Poll lists events/ every Interval even where the server offers
	// bucket notifications.
	Poll bool
	// From starts a branch that has no cursor yet after this commit
	// rather than from nothing: "head" is the remote's head at start
	// (only what is pushed next is handled), else a full commit id.
	From string
	// AcceptRewrites follows a branch whose new head does not descend
	// from the cursor, handling the delta from the cursor to it.
	AcceptRewrites bool
	// StateDir holds the cursors and the deltas in preparation
	// (.dx/subscribe of the repository).
	StateDir string
	WorkDir  string // where the command runs; the current directory when empty
	// Runner is the argv, without the run record's path, of the process
	// that runs the command (dx subscribe-exec): a process of its own
	// survives a SIGKILL of the subscriber, and the restarted subscriber
	// adopts its run. Empty: in this process (tests).
	Runner []string
	// Stdout and Stderr receive the command's output.
	Stdout, Stderr io.Writer
	// RetryNow, when it receives, ends the back-off of every failed
	// branch: they are retried at once (dx subscribe --retry from another
	// terminal, through SIGUSR1).
	RetryNow <-chan struct{}
	// Report receives what the subscriber does and what fails; nil drops it.
	Report func(Event)
}

// Validate checks the options before anything is read.
func (o *Options) Validate() error {
	if len(o.Branches)+len(o.Models) == 0 {
		return errors.New("subscribe: name at least one branch or --model NAME@STAGE to follow")
	}
	for _, m := range o.Models {
		if err := checkModelSpec(m); err != nil {
			return err
		}
	}
	if o.Command == "" {
		return errors.New("subscribe: --exec CMD is required")
	}
	if o.Into != "" && (len(o.Branches) != 1 || len(o.Models) > 0) {
		return errors.New("subscribe: --into follows a single branch")
	}
	if o.Interval < 0 {
		return fmt.Errorf("subscribe: interval %s is negative", o.Interval)
	}
	if o.From != "" && o.From != "head" {
		if _, err := dag.ParseID(o.From); err != nil {
			return fmt.Errorf("subscribe: --from %q: want head or a full commit id", o.From)
		}
	}
	if o.RefsInterval < 0 {
		return fmt.Errorf("subscribe: refs interval %s is negative", o.RefsInterval)
	}
	if o.StateDir == "" {
		return errors.New("subscribe: no state directory")
	}
	return nil
}

// Follower is what a step needs to bring a remote head here.
type Follower interface {
	OpenRemote(ctx context.Context, name string) (string, remote.Backend, error)
	FetchBranch(ctx context.Context, remoteName, branch string, head dag.ID) (*repo.FetchResult, error)
	AdvanceBranch(ctx context.Context, name string, to dag.ID) (dag.ID, error)
}

// Differ is what a step needs to write a delta (and --status to list
// what waits).
type Differ interface {
	Log(ctx context.Context, revs []string, limit int) ([]repo.LogEntry, error)
	Descends(ctx context.Context, a, b dag.ID) (ok, cut bool, err error)
	DiffRows(ctx context.Context, o repo.RowDiffOptions) ([]repo.TableDiff, error)
	WriteFile(ctx context.Context, e *dag.TreeEntry, w io.Writer) error
	ContractDrift(ctx context.Context, a, b dag.ID, paths []string) (*repo.DriftReport, error)
}

// ModelFollower is what a step needs to follow a model's stage.
type ModelFollower interface {
	FetchStage(ctx context.Context, remoteName, model, stage string) (*repo.RemoteStage, error)
	ModelCheckout(ctx context.Context, spec, dir string) (*repo.ModelVersion, int, error)
}

// Repo is the repository, open for writing; *repo.Repo is one.
type Repo interface {
	Follower
	Differ
	ModelFollower
}

var _ Repo = (*repo.Repo)(nil)

// Opener opens the repository for writing, calls fn and closes it. The
// subscriber opens it for each step and never holds it while the command
// runs.
type Opener func(ctx context.Context, fn func(Repo) error) error
