package repo

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/dxdata/dx/dag"
)

// TestLogWalkerPagesAsLog pages a history with a merge and two starting
// points and gets the commits Log lists, in the same order, each once.
func TestLogWalkerPagesAsLog(t *testing.T) {
	ctx := context.Background()
	r, _ := newTestRepo(t)
	commit := func(msg string, extra ...dag.ID) dag.ID {
		t.Helper()
		res, err := r.Commit(ctx, CommitOptions{Message: msg, AllowEmpty: true, ExtraParents: extra})
		if err != nil {
			t.Fatal(err)
		}
		return res.ID
	}
	for i := range 5 {
		commit(fmt.Sprintf("main %d", i))
	}
	if _, err := r.CreateBranch(ctx, "side", "HEAD~3"); err != nil {
		t.Fatal(err)
	}
	side, err := r.CreateTag(ctx, "t", "HEAD~1")
	if err != nil {
		t.Fatal(err)
	}
	commit("merge", side)
	commit("after")
	revs := []string{"HEAD", "side"}
	want, err := r.Log(ctx, revs, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range []int{1, 2, 3, len(want), len(want) + 1} {
		w, err := r.WalkLog(ctx, revs)
		if err != nil {
			t.Fatal(err)
		}
		var got []dag.ID
		for !w.Done() {
			entries, err := w.Next(ctx, r, page)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) == 0 || len(entries) > page {
				t.Fatalf("page of %d: got %d entries", page, len(entries))
			}
			for _, e := range entries {
				got = append(got, e.ID)
			}
		}
		var wantIDs []dag.ID
		for _, e := range want {
			wantIDs = append(wantIDs, e.ID)
		}
		if !slices.Equal(got, wantIDs) {
			t.Errorf("pages of %d: %d commits, not Log's %d in its order", page, len(got), len(wantIDs))
		}
	}
}
