package tui

import (
	"context"
	"errors"
	"testing"

	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/store"
)

// TestRepoHistoryLetsWritersIn: once its reads have been idle for
// IdleClose, RepoHistory holds no lock on the repository, and its next read
// opens it again. The writer waits for the idle close as a command from
// another terminal does, with a lock timeout no loaded machine reaches: a
// RepoHistory that kept the lock would still hold it then.
func TestRepoHistoryLetsWritersIn(t *testing.T) {
	ctx := context.Background()
	h := smallHistory(t)
	history := openHistory(t, h)
	entries, done, err := history.NextCommits(ctx, 2)
	if err != nil || len(entries) != 2 || done {
		t.Fatalf("first page: %d entries, done %v, %v", len(entries), done, err)
	}
	writer, err := repo.Open(ctx, h.dir, repo.Options{Store: store.Options{LockTimeout: waitLimit}})
	if err != nil {
		t.Fatalf("a writer cannot open the repository the idle UI reads: %v", err)
	}
	if err := writer.Close(); err != nil {
		t.Fatal(err)
	}
	res, err := history.Show(ctx, entries[1].ID)
	if err != nil || res.Message != "Orders for March" {
		t.Fatalf("Show after the idle close: %v, %v", res, err)
	}
	if err := history.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := history.Show(ctx, entries[0].ID); !errors.Is(err, ErrClosed) {
		t.Errorf("Show after Close: %v, want ErrClosed", err)
	}
}
