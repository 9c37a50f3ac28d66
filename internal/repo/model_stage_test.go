package repo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/modelstage"
	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/store"
)

// TestFetchStage: a follower reads a stage from a remote, fetches the
// version it is on and its history, and reads it again after the stage
// moved there; a stage the remote lacks is no error, and no ref moves.
func TestFetchStage(t *testing.T) {
	ctx := context.Background()
	hub, url := newHub(t)
	registerModel(t, hub, "churn", "v1")
	registerModel(t, hub, "churn", "v2")
	if _, err := hub.Promote(ctx, PromoteOptions{Spec: "churn@1", Stage: "production"}); err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Push(ctx, PushOptions{All: true}); err != nil {
		t.Fatal(err)
	}

	edge, _ := newTestRepo(t)
	if err := edge.AddRemote("origin", remote.Config{URL: url}); err != nil {
		t.Fatal(err)
	}
	if rs, err := edge.FetchStage(ctx, "", "churn", "staging"); err != nil || rs.Change != nil || !rs.Ref.ID.IsZero() {
		t.Fatalf("a stage the remote lacks: %+v %v", rs, err)
	}
	rs, err := edge.FetchStage(ctx, "", "churn", "production")
	if err != nil {
		t.Fatal(err)
	}
	if rs.Version == nil || rs.Version.Version != 1 || rs.Change.To != 1 || rs.Fetched.Objects == 0 {
		t.Fatalf("first read: %+v", rs)
	}
	if mv, err := edge.Model(ctx, "churn@production"); err != nil || mv.Version != 1 {
		t.Fatalf("the local stage did not follow: %v %v", mv, err)
	}
	out := filepath.Join(t.TempDir(), "m")
	if _, _, err := edge.ModelCheckout(ctx, "churn@production", out); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "model.bin")); err != nil || string(b) != "v1" {
		t.Fatalf("artifact: %q %v", b, err)
	}

	if _, err := hub.Promote(ctx, PromoteOptions{Spec: "churn@2", Stage: "production", Expect: "1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Push(ctx, PushOptions{Refs: []string{"churn"}}); err != nil {
		t.Fatal(err)
	}
	_, be, err := edge.OpenRemote(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := remote.ReadRef(ctx, be, modelstage.Ref("churn", "production"))
	if err != nil || ref.ID.IsZero() {
		t.Fatalf("read the stage ref: %v %v", ref, err)
	}
	if ref.ID == rs.Ref.ID {
		t.Fatalf("the stage did not move on the remote")
	}
	rs2, err := edge.FetchStage(ctx, "", "churn", "production")
	if err != nil {
		t.Fatal(err)
	}
	if rs2.Version == nil || rs2.Version.Version != 2 || rs2.Change.From != 1 || rs2.Ref.ID != ref.ID {
		t.Fatalf("second read: %+v", rs2)
	}
	if len(rs2.Fetched.Refs) != 1 || rs2.Fetched.Refs[0].Note != "" {
		t.Fatalf("the local stage did not move forward: %+v", rs2.Fetched.Refs)
	}
	if h, err := edge.StageLog(ctx, "churn", "production"); err != nil || len(h) != 2 {
		t.Fatalf("the history did not come: %v %v", h, err)
	}
}

// TestFetchStageRefusesForeignVersion: a remote whose stage names a
// version of another model (a hostile or broken remote) is refused, and
// the local stage ref is not created.
func TestFetchStageRefusesForeignVersion(t *testing.T) {
	ctx := context.Background()
	hub, url := newHub(t)
	registerModel(t, hub, "churn", "w")
	registerModel(t, hub, "fraud", "w")
	fraud, err := hub.Model(ctx, "fraud@1")
	if err != nil {
		t.Fatal(err)
	}
	// A move of churn's production naming fraud@1, written past Move's check.
	b, err := (&dag.StageMove{Model: "churn", Stage: "production", Version: fraud.ID, Seq: 1, Author: "Eve"}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	id, err := hub.Store.Put(ctx, dag.KindStage, b)
	if err != nil {
		t.Fatal(err)
	}
	ref := modelstage.Ref("churn", "production")
	if err := hub.Store.Transaction(ctx, []store.RefUpdate{{Name: ref, New: id}}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Push(ctx, PushOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Model(ctx, "churn@production"); !errors.Is(err, dag.ErrCorrupt) {
		t.Fatalf("resolving the foreign stage locally: %v", err)
	}
	edge, _ := newTestRepo(t)
	if err := edge.AddRemote("origin", remote.Config{URL: url}); err != nil {
		t.Fatal(err)
	}
	if _, err := edge.FetchStage(ctx, "", "churn", "production"); !errors.Is(err, dag.ErrCorrupt) {
		t.Fatalf("FetchStage of a foreign version: %v", err)
	}
	if _, err := edge.Store.Ref(ctx, ref); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the refused stage was kept: %v", err)
	}
}

// newHub is a repository with one data commit and a directory remote,
// origin, at url.
func newHub(t *testing.T) (hub *Repo, url string) {
	t.Helper()
	hub, dir := newTestRepo(t)
	url = "file://" + filepath.Join(t.TempDir(), "remote")
	if err := os.WriteFile(filepath.Join(dir, "t.csv"), []byte("id,v\n1,a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Commit(context.Background(), CommitOptions{Message: "data"}); err != nil {
		t.Fatal(err)
	}
	if err := hub.AddRemote("origin", remote.Config{URL: url}); err != nil {
		t.Fatal(err)
	}
	return hub, url
}

// registerModel registers a version of a model whose artifact holds content.
func registerModel(t *testing.T, r *Repo, name, content string) {
	t.Helper()
	art := filepath.Join(t.TempDir(), "model.bin")
	if err := os.WriteFile(art, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.RegisterModel(context.Background(), RegisterOptions{Name: name, Artifact: art, Data: []string{"HEAD"}}); err != nil {
		t.Fatal(err)
	}
}
