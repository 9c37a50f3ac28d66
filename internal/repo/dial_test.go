package repo

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/dxdata/dx/remote"
)

// TestDial: a repository opened to fetch from a remote (Options.Dial)
// reads its heads while it opens, and the first fetch from that remote
// starts from them: a commit pushed after the open is left to the next
// fetch. A fetch from another remote reads its own.
func TestDial(t *testing.T) {
	ctx := context.Background()
	hub, url := newHub(t)
	if _, err := hub.Push(ctx, PushOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	v1, _, _, err := hub.headCommit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := Init(ctx, dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"origin", "other"} {
		if err := addRemoteAt(dir, name, url); err != nil {
			t.Fatal(err)
		}
	}
	edge, err := Open(ctx, dir, Options{Dial: &Dial{Remote: "origin"}})
	if err != nil {
		t.Fatal(err)
	}
	defer edge.Close()
	d := edge.dial.Load()
	if d == nil {
		t.Fatal("no heads are being read")
	}
	<-d.done // read before the push below

	if err := os.WriteFile(filepath.Join(hub.Root, "t.csv"), []byte("id,v\n1,b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Commit(ctx, CommitOptions{Message: "v2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Push(ctx, PushOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	v2, _, _, err := hub.headCommit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tracking := func(remoteName string) string {
		t.Helper()
		id, err := edge.Store.Ref(ctx, "refs/remotes/"+remoteName+"/main")
		if err != nil {
			t.Fatal(err)
		}
		return id.Short()
	}

	if _, err := edge.Fetch(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	if got := tracking("other"); got != v2.Short() {
		t.Fatalf("a fetch from another remote than the one dialled is at %s, want the remote's %s", got, v2.Short())
	}
	if _, err := edge.Fetch(ctx, "origin"); err != nil {
		t.Fatal(err)
	}
	if got := tracking("origin"); got != v1.Short() {
		t.Fatalf("the first fetch from the remote dialled is at %s, want %s, the heads read at the open", got, v1.Short())
	}
	if _, err := edge.Fetch(ctx, "origin"); err != nil {
		t.Fatal(err)
	}
	if got := tracking("origin"); got != v2.Short() {
		t.Fatalf("the next fetch is at %s, want %s: it reads the heads again", got, v2.Short())
	}
}

// addRemoteAt records a remote in the repository at dir, unopened.
func addRemoteAt(dir, name, url string) error {
	r := &Repo{Root: dir}
	return r.AddRemote(name, remote.Config{URL: url})
}
