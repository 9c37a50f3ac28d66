package synthhistory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/store"
)

var start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func openRepo(t *testing.T) *repo.Repo {
	t.Helper()
	ctx := context.Background()
	dir, err := repo.Init(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(ctx, dir, repo.Options{Author: "Ann <ann@example.com>", Now: func() time.Time { return start }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// TestAppendOnUnbornAndOnTop: commits appended to an unborn branch and
// then on top of a commit made by dx commit are a linear history, each
// with the step file's change, times a second apart and generations
// counted on from the parent; the store passes fsck.
func TestAppendOnUnbornAndOnTop(t *testing.T) {
	ctx := context.Background()
	r := openRepo(t)
	o := Options{Commits: 3, Author: "Bench <bench@example.com>", Start: start}
	if _, err := Append(ctx, r.Store, o); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.Root, "a.txt"), []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Commit(ctx, repo.CommitOptions{Message: "By hand", Paths: []string{"a.txt"}}); err != nil {
		t.Fatal(err)
	}
	o.Commits, o.Start = 2, start.Add(time.Hour)
	head, err := Append(ctx, r.Store, o)
	if err != nil {
		t.Fatal(err)
	}
	log, err := r.Log(ctx, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Step 6", "Step 5", "By hand", "Step 3", "Step 2", "Step 1"}
	if len(log) != len(want) || log[0].ID != head {
		t.Fatalf("log of %d commits, head %v; want %d, head %v", len(log), log[0].ID.Short(), len(want), head.Short())
	}
	for i, e := range log {
		if e.Message != want[i] {
			t.Errorf("commit %d: %q, want %q", i, e.Message, want[i])
		}
	}
	if got := log[0].Time.Sub(log[1].Time); got != time.Second || !log[1].Time.Equal(start.Add(time.Hour)) {
		t.Errorf("times %v and %v", log[1].Time, log[0].Time)
	}
	show, err := r.Show(ctx, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if len(show.Changes) != 1 || show.Changes[0].Path != "steps.txt" {
		t.Errorf("HEAD changes %+v, want steps.txt alone", show.Changes)
	}
	for rev, content := range map[string]string{"HEAD:steps.txt": "step 6\n", "HEAD~3:steps.txt": "step 3\n", "HEAD:a.txt": "a\n"} {
		var b bytes.Buffer
		if err := r.Cat(ctx, rev, &b); err != nil || b.String() != content {
			t.Errorf("cat %s: %q, %v; want %q", rev, b.String(), err, content)
		}
	}
	rep, err := r.Fsck(ctx, true)
	if err != nil || !rep.OK() {
		t.Fatalf("fsck: %v, %v", rep, err)
	}
}

// TestAppendRefusals: bad options, a detached HEAD, and a branch that
// moved meanwhile are refused with the branch left as it was.
func TestAppendRefusals(t *testing.T) {
	ctx := context.Background()
	r := openRepo(t)
	for _, o := range []Options{{Commits: 0, Author: "a"}, {Commits: 1}} {
		if _, err := Append(ctx, r.Store, o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	head, err := Append(ctx, r.Store, Options{Commits: 1, Author: "a", Start: start})
	if err != nil {
		t.Fatal(err)
	}
	moving := &movingStore{Store: r.Store}
	if _, err := Append(ctx, moving, Options{Commits: 2, Author: "a", Start: start}); !errors.Is(err, store.ErrRefChanged) {
		t.Errorf("a branch moved meanwhile: %v, want ErrRefChanged", err)
	}
	if got, err := r.Store.Ref(ctx, "refs/heads/main"); err != nil || got != moving.moved {
		t.Errorf("main at %v (%v), want where the other writer put it", got.Short(), err)
	}
	if err := r.Store.Transaction(ctx, nil, &store.Head{ID: head}, "detach"); err != nil {
		t.Fatal(err)
	}
	if _, err := Append(ctx, r.Store, Options{Commits: 1, Author: "a"}); !errors.Is(err, ErrDetached) {
		t.Errorf("detached HEAD: %v, want ErrDetached", err)
	}
}

// movingStore moves the branch to a commit of its own just before
// Append moves it.
type movingStore struct {
	*store.Store
	moved dag.ID
}

func (m *movingStore) Transaction(ctx context.Context, updates []store.RefUpdate, head *store.Head, message string) error {
	other, err := Append(ctx, m.Store, Options{Commits: 1, Author: "other", Start: start.Add(time.Minute)})
	if err != nil {
		return fmt.Errorf("the other writer: %w", err)
	}
	m.moved = other
	return m.Store.Transaction(ctx, updates, head, message)
}
