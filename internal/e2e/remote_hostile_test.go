package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dxdata/dx/dag"
)

// TestConflictReportNeverWritesThroughSymlinks: a remote branch that
// places a symlink where a table's conflict report goes (pointing at
// .git/config, inside the repository, where the root-confined writer
// would follow it) makes a pull that conflicts write its report as a file
// of its own; the link's target is never written.
func TestConflictReportNeverWritesThroughSymlinks(t *testing.T) {
	rs := fileRemote(t)
	evil := rs.repo(t)
	evil.write(".dxattributes", "*.csv table=csv key=id\n")
	evil.write("t.csv", "id,name\n1,a\n2,b\n")
	evil.ok("commit", "-m", "base")
	evil.ok("push")

	victim := rs.clone(t)
	victim.write(".git/config", "[core]\n\tbare = false\n")
	victim.write("t.csv", "id,name\n1,a\n2,MINE\n")
	victim.ok("commit", "-m", "mine")

	evil.write("t.csv", "id,name\n1,a\n2,THEIRS\n")
	if err := os.Symlink(".git/config", evil.path("t.csv.conflicts.csv")); err != nil {
		t.Fatal(err)
	}
	evil.ok("commit", "-m", "theirs")
	evil.ok("push")

	if res := victim.run("pull"); res.code == 0 {
		t.Fatalf("a conflicting pull succeeded: %s", res.stdout)
	}
	if b, _ := os.ReadFile(victim.path(".git/config")); string(b) != "[core]\n\tbare = false\n" {
		t.Fatalf("the conflict report was written through a symlink into .git/config:\n%s", b)
	}
	fi, err := os.Lstat(victim.path("t.csv.conflicts.csv"))
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("the conflict report is not a file of its own: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(victim.dir, "t.csv")); err != nil {
		t.Fatal(err)
	}
}

// TestPullNeverStagesThroughSymlinks: a remote branch first holds a
// symlink d pointing at .git (inside the repository), then replaces it
// with a directory d/hooks holding an executable. The pull that turns the
// link into the directory writes nothing into .git (not even a temporary
// staged "beside" d/hooks/pre-commit through the link) and leaves the
// file in place.
func TestPullNeverStagesThroughSymlinks(t *testing.T) {
	rs := fileRemote(t)
	evil := rs.repo(t)
	if err := os.Symlink(".git", evil.path("d")); err != nil {
		t.Fatal(err)
	}
	evil.write("ok.txt", "ok\n")
	evil.ok("commit", "-m", "a link to .git")
	evil.ok("push")

	victim := rs.clone(t)
	victim.write(".git/hooks/README", "hooks\n")

	os.Remove(evil.path("d"))
	evil.write("d/hooks/pre-commit", "#!/bin/sh\ntouch pwned\n")
	os.Chmod(evil.path("d/hooks/pre-commit"), 0o755)
	evil.ok("commit", "-m", "now a directory")
	evil.ok("push")

	victim.ok("pull")
	ents, _ := os.ReadDir(victim.path(".git/hooks"))
	if len(ents) != 1 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("pull wrote into .git/hooks through the symlink d: %v", names)
	}
	if b, err := os.ReadFile(victim.path("d/hooks/pre-commit")); err != nil || string(b) != "#!/bin/sh\ntouch pwned\n" {
		t.Fatalf("d/hooks/pre-commit not checked out: %q %v", b, err)
	}
	if fi, err := os.Lstat(victim.path("d")); err != nil || !fi.IsDir() {
		t.Fatalf("d is not a directory: %v %v", fi, err)
	}
	victim.ok("fsck")
	if st := victim.ok("status", "--short"); st != "" {
		t.Fatalf("status after pull: %q", st)
	}
}

// TestFetchIgnoresHostileRefNames: a remote's refs whose names hold C1
// control characters (U+009B is a terminal's CSI) or bytes that are not
// UTF-8 are not fetched: they never become local refs, nor reach the
// terminal raw.
func TestFetchIgnoresHostileRefNames(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "remote")
	var commit dag.ID
	craftRemote(t, dir, func(add func(dag.Kind, []byte) dag.ID) dag.ID {
		chunk := add(dag.KindChunk, []byte("ok\n"))
		file := add(dag.KindFile, (&dag.FileNode{Chunks: []dag.ChunkRef{{ID: chunk, Len: 3}}}).Encode())
		tree := add(dag.KindTree, rawTree(rawEntry{"ok.txt", dag.ModeFile, file, 3}))
		cb, err := (&dag.Commit{Tree: tree, Generation: 1, Author: "a", Time: time.Unix(0, 0), Message: "ok"}).Encode()
		if err != nil {
			t.Fatal(err)
		}
		commit = add(dag.KindCommit, cb)
		return commit
	})
	for _, name := range []string{"a\u009b2J\u009b31mX", "b\xff\x9b2J", "c\u0085d"} {
		writeBytes(t, filepath.Join(dir, "refs", "heads", name), []byte(commit.String()+"\n"))
		writeBytes(t, filepath.Join(dir, "refs", "tags", name), []byte(commit.String()+"\n"))
	}
	r := newRepo(t)
	r.ok("remote", "add", "origin", "file://"+dir)
	out := r.ok("fetch")
	out += r.ok("branch", "-r")
	out += r.ok("tag")
	for _, s := range []string{"\u009b", "\xff", "\x9b", "\u0085"} {
		if strings.Contains(out, s) {
			t.Fatalf("output holds %q from a remote ref name:\n%q", s, out)
		}
	}
	if b := strings.Fields(r.ok("branch", "-r")); len(b) != 3 || b[0] != "origin/main" {
		t.Fatalf("remote-tracking branches: %q", b)
	}
}
