package tui

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/store"
)

// branchyHistory is a history with a branch merged back, a tag, a remote
// branch, a text file and a binary one changed on either side, and two
// versions of a model trained on its commits, the first in production:
//
//   - Merge feature into main (HEAD -> main, tag: v2)   churn@2
//     |\
//     | * Swap the logo (feature)
//   - | Rewrite the notes
//     |/
//   - Import data (origin/main)                         churn@1
func branchyHistory(t *testing.T) *testHistory {
	t.Helper()
	ctx := context.Background()
	h := newTestHistory(t)
	h.commit("Import data", map[string]string{
		"notes.txt":       "alpha\nbeta\ngamma\ndelta\n",
		"assets/logo.bin": "PNG\x00\x01\x02\x03",
		"data/t.csv":      "id,v\n1,a\n",
	}, nil)
	first := h.head()
	if _, err := h.repo.CreateBranch(ctx, "feature", "HEAD"); err != nil {
		t.Fatal(err)
	}
	if err := h.repo.Store.Transaction(ctx, []store.RefUpdate{{Name: "refs/remotes/origin/main", New: first}}, nil, "test remote branch"); err != nil {
		t.Fatal(err)
	}
	h.commit("Rewrite the notes", map[string]string{"notes.txt": "alpha\nBETA\ngamma\ndelta\nepsilon\n"}, nil)
	h.checkout("feature")
	h.commit("Swap the logo", map[string]string{"assets/logo.bin": "PNG\x00\x09\x08\x07\x06"}, nil)
	h.checkout("main")
	h.now = h.now.Add(time.Minute)
	if _, err := h.repo.Merge(ctx, repo.MergeOptions{Rev: "feature"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.repo.CreateTag(ctx, "v2", "HEAD"); err != nil {
		t.Fatal(err)
	}
	h.registerModel("churn", first.String(), map[string]string{"auc": "0.81"})
	h.registerModel("churn", "HEAD", map[string]string{"auc": "0.86", "loss": "0.31"})
	if _, err := h.repo.Promote(ctx, repo.PromoteOptions{Spec: "churn@1", Stage: "production"}); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *testHistory) head() dag.ID {
	h.t.Helper()
	res, err := h.repo.Resolve(context.Background(), "HEAD")
	if err != nil {
		h.t.Fatal(err)
	}
	return res.ID
}

func (h *testHistory) checkout(rev string) {
	h.t.Helper()
	if _, err := h.repo.Checkout(context.Background(), rev, repo.CheckoutOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

// registerModel registers a version of a model trained on data, with an
// artifact outside the worktree.
func (h *testHistory) registerModel(name, data string, metrics map[string]string) {
	h.t.Helper()
	artifact := filepath.Join(h.t.TempDir(), "model.bin")
	if err := os.WriteFile(artifact, []byte("weights "+data), 0o644); err != nil {
		h.t.Fatal(err)
	}
	h.now = h.now.Add(time.Minute)
	if _, err := h.repo.RegisterModel(context.Background(), repo.RegisterOptions{Name: name, Artifact: artifact, Data: []string{data}, Metrics: metrics}); err != nil {
		h.t.Fatal(err)
	}
}
