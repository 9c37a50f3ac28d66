package subscribe

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/remote"
)

// fakeRepo follows a directory remote without a store: its commits form
// one chain unless rewritten says otherwise, and every delta is empty.
type fakeRepo struct {
	be        remote.Backend
	fetched   []dag.ID
	rewritten map[dag.ID]bool // heads that do not descend from anything
}

func (f *fakeRepo) OpenRemote(ctx context.Context, name string) (string, remote.Backend, error) {
	return "origin", f.be, nil
}

// unreachable is a remote whose reads fail.
type unreachable struct{ remote.Backend }

func (unreachable) Get(ctx context.Context, key string, limit int64) ([]byte, string, error) {
	return nil, "", errors.New("connection refused")
}

func (f *fakeRepo) FetchBranch(ctx context.Context, remoteName, branch string, head dag.ID) (*repo.FetchResult, error) {
	f.fetched = append(f.fetched, head)
	return &repo.FetchResult{}, nil
}

func (f *fakeRepo) AdvanceBranch(ctx context.Context, name string, to dag.ID) (dag.ID, error) {
	return dag.ZeroID, nil
}

func (f *fakeRepo) Descends(ctx context.Context, a, b dag.ID) (bool, bool, error) {
	return !f.rewritten[b], false, nil
}

func (f *fakeRepo) DiffRows(ctx context.Context, o repo.RowDiffOptions) ([]repo.TableDiff, error) {
	return nil, nil
}

func (f *fakeRepo) WriteFile(ctx context.Context, e *dag.TreeEntry, w io.Writer) error { return nil }

func (f *fakeRepo) ContractDrift(ctx context.Context, a, b dag.ID, paths []string) (*repo.DriftReport, error) {
	return nil, nil
}

func (f *fakeRepo) Log(ctx context.Context, revs []string, limit int) ([]repo.LogEntry, error) {
	return nil, errors.New("no log here")
}

// The fake follows no model: the e2e tests do.
func (f *fakeRepo) FetchStage(ctx context.Context, remoteName, model, stage string) (*repo.RemoteStage, error) {
	return nil, errors.New("no models here")
}

func (f *fakeRepo) ModelCheckout(ctx context.Context, spec, dir string) (*repo.ModelVersion, int, error) {
	return nil, 0, errors.New("no models here")
}

// fixture is a directory remote, a fake repository and a state directory.
type fixture struct {
	t     *testing.T
	repo  *fakeRepo
	state string
	tag   string // the ref's current tag, for the next Swap
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	be, err := remote.Open(context.Background(), remote.Config{URL: "file://" + filepath.Join(t.TempDir(), "remote")})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, repo: &fakeRepo{be: be, rewritten: map[dag.ID]bool{}}, state: t.TempDir()}
}

// push moves the remote's main to a new commit id made of b.
func (f *fixture) push(b byte) dag.ID {
	f.t.Helper()
	var id dag.ID
	id[0] = b
	tag, err := f.repo.be.Swap(context.Background(), "refs/heads/main", f.tag, []byte(id.String()+"\n"))
	if err != nil {
		f.t.Fatal(err)
	}
	f.tag = tag
	return id
}

func (f *fixture) run(command string, once bool) error {
	f.t.Helper()
	open := func(ctx context.Context, fn func(Repo) error) error { return fn(f.repo) }
	return Run(context.Background(), open, Options{
		Branches: []string{"main"}, Command: command, Once: once, StateDir: f.state,
		Stdout: io.Discard, Stderr: io.Discard,
	})
}

func (f *fixture) cursor() Cursor {
	f.t.Helper()
	c, err := loadCursors(f.state, "origin")
	if err != nil {
		f.t.Fatal(err)
	}
	return c.Branches["main"]
}

func TestRunMovesCursorOnlyAfterSuccess(t *testing.T) {
	f := newFixture(t)
	first := f.push(1)
	if err := f.run("true", true); err != nil {
		t.Fatal(err)
	}
	if c := f.cursor(); c.Commit != first || c.LastError != "" {
		t.Fatalf("cursor %+v, want %s", c, first.Short())
	}
	second := f.push(2)
	err := f.run("exit 3", true)
	if !errors.Is(err, ErrCommandFailed) {
		t.Fatalf("failing command: %v, want ErrCommandFailed", err)
	}
	if c := f.cursor(); c.Commit != first || c.Failures != 1 || !strings.Contains(c.LastError, "exit status 3") {
		t.Fatalf("after a failure: cursor %+v, want still %s with the error", c, first.Short())
	}
	if err := f.run("true", true); err != nil {
		t.Fatal(err)
	}
	if c := f.cursor(); c.Commit != second || c.Failures != 0 || c.LastError != "" {
		t.Fatalf("after a success: cursor %+v, want %s and no error", c, second.Short())
	}
}

func TestRunUnreachableRemoteRecovers(t *testing.T) {
	f := newFixture(t)
	first := f.push(1)
	if err := f.run("true", true); err != nil {
		t.Fatal(err)
	}
	reachable := f.repo.be
	f.repo.be = unreachable{reachable}
	if err := f.run("true", true); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("unreachable remote: %v", err)
	}
	if c := f.cursor(); c.Commit != first || c.Failures != 1 {
		t.Fatalf("cursor %+v, want %s with one failure", c, first.Short())
	}
	f.repo.be = reachable
	if err := f.run("true", true); err != nil {
		t.Fatal(err)
	}
	if c := f.cursor(); c.Commit != first || c.Failures != 0 || c.LastError != "" {
		t.Fatalf("after recovery: cursor %+v, want the failure cleared", c)
	}
}

func TestRunStopsOnRewrite(t *testing.T) {
	f := newFixture(t)
	first := f.push(1)
	if err := f.run("true", true); err != nil {
		t.Fatal(err)
	}
	forced := f.push(2)
	f.repo.rewritten[forced] = true
	// Not once: a stopped branch is the end of a single-branch subscriber.
	err := f.run("true", false)
	if !errors.Is(err, ErrRewritten) {
		t.Fatalf("rewrite: %v, want ErrRewritten", err)
	}
	if c := f.cursor(); c.Commit != first {
		t.Fatalf("cursor %s moved on a rewrite", c.Commit.Short())
	}
}

func TestRunNothingNewRunsNothing(t *testing.T) {
	f := newFixture(t)
	f.push(1)
	if err := f.run("true", true); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "ran")
	if err := f.run("touch "+marker, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the command ran with nothing new")
	}
	if len(f.repo.fetched) != 1 {
		t.Fatalf("fetched %d times, want once", len(f.repo.fetched))
	}
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{
		{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {9, 256 * time.Second}, {10, maxBackoff}, {1000, maxBackoff},
	} {
		if got := backoff(tc.failures); got != tc.want {
			t.Errorf("backoff(%d) = %s, want %s", tc.failures, got, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	good := Options{Branches: []string{"main"}, Command: "true", StateDir: "/x"}
	for _, tc := range []struct {
		name   string
		change func(*Options)
	}{
		{"no branch", func(o *Options) { o.Branches = nil }},
		{"no command", func(o *Options) { o.Command = "" }},
		{"--into with two branches", func(o *Options) { o.Into, o.Branches = "x", []string{"a", "b"} }},
		{"negative interval", func(o *Options) { o.Interval = -time.Second }},
		{"no state directory", func(o *Options) { o.StateDir = "" }},
	} {
		o := good
		tc.change(&o)
		if o.Validate() == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if err := good.Validate(); err != nil {
		t.Errorf("good options: %v", err)
	}
}
