package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRoundTrip: any tree checks out byte-identical, including empty
// files, a 2 GiB sparse file, unicode and space names, deep nesting,
// executable bits and symlinks inside the tree.
func TestRoundTrip(t *testing.T) {
	r := newRepo(t)
	r.write("empty.txt", "")
	r.write("with space/naïve ünïcødé 名前.csv", "id,v\n1,a\n")
	deep := strings.Repeat("d/", 40) + "leaf.txt"
	r.write(deep, "deep\n")
	r.write("bin/run.sh", "#!/bin/sh\necho hi\n")
	if err := os.Chmod(r.path("bin/run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	blob := make([]byte, 3<<20)
	for i := range blob {
		blob[i] = byte(rng.IntN(256))
	}
	r.write("data/random.bin", string(blob))
	if err := os.Symlink("../data/random.bin", r.path("links/rel")); err != nil {
		os.MkdirAll(r.path("links"), 0o755)
		if err := os.Symlink("../data/random.bin", r.path("links/rel")); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/etc/hostname", r.path("links/abs")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("nowhere", r.path("links/dangling")); err != nil {
		t.Fatal(err)
	}
	sparse, err := os.Create(r.path("big/sparse.img"))
	if err != nil {
		os.MkdirAll(r.path("big"), 0o755)
		if sparse, err = os.Create(r.path("big/sparse.img")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sparse.WriteAt([]byte("start"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := sparse.WriteAt([]byte("end"), 2<<30-3); err != nil {
		t.Fatal(err)
	}
	sparse.Close()

	want := manifest(t, r.dir)
	r.ok("commit", "-m", "everything")
	clearWorktree(t, r.dir)
	r.ok("checkout", "--force", "HEAD")
	got := manifest(t, r.dir)
	if d := diffManifests(want, got); len(d) > 0 {
		t.Fatalf("checkout differs from what was committed:\n%s", strings.Join(d, "\n"))
	}
	if st := r.ok("status", "--short"); st != "" {
		t.Fatalf("status after checkout: %q", st)
	}
	// The sparse file came back sparse.
	var blocks int64
	if fi, err := os.Stat(r.path("big/sparse.img")); err == nil {
		if st, ok := statBlocks(fi); ok {
			blocks = st
		}
	}
	if blocks*512 > 64<<20 {
		t.Errorf("2 GiB sparse file checked out with %d MiB allocated", blocks*512>>20)
	}
	r.ok("fsck", "--full")
}

// TestBranchWorkflow: commit, branch, change, diff, checkout back and forth,
// log, tags and the refusal to overwrite local changes.
func TestBranchWorkflow(t *testing.T) {
	r := newRepo(t)
	r.write("data/a.csv", "id,v\n1,a\n2,b\n")
	r.write("data/b.csv", "id,v\n1,x\n")
	r.write("notes.txt", "hello\n")
	r.ok("commit", "-m", "first")
	r.ok("branch", "feature")
	r.ok("checkout", "feature")
	r.write("data/a.csv", "id,v\n1,a\n2,B\n3,c\n")
	if err := os.Rename(r.path("notes.txt"), r.path("README.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(r.path("data/b.csv")); err != nil {
		t.Fatal(err)
	}
	r.write("new/c.csv", "id\n9\n")
	st := r.ok("status", "--short")
	wantStatus := "R notes.txt -> README.txt\nM data/a.csv\nD data/b.csv\nA new/c.csv\n"
	if st != wantStatus {
		t.Fatalf("status:\n%s\nwant:\n%s", st, wantStatus)
	}
	r.ok("commit", "-m", "second")
	diff := r.ok("diff", "main", "feature")
	if diff != wantStatus {
		t.Fatalf("diff main feature:\n%s\nwant:\n%s", diff, wantStatus)
	}
	var cs []map[string]any
	if err := json.Unmarshal([]byte(r.ok("diff", "--json", "main", "feature")), &cs); err != nil || len(cs) != 4 {
		t.Fatalf("diff --json: %v %v", cs, err)
	}
	featureTree := manifest(t, r.dir)
	r.ok("checkout", "main")
	if got := r.ok("cat", "HEAD:notes.txt"); got != "hello\n" {
		t.Fatalf("cat: %q", got)
	}
	if got := r.ok("cat", "feature:data/a.csv"); got != "id,v\n1,a\n2,B\n3,c\n" {
		t.Fatalf("cat feature: %q", got)
	}
	if _, err := os.Stat(r.path("new")); !os.IsNotExist(err) {
		t.Fatal("checkout main left new/ behind")
	}
	// A local change that the switch would overwrite is refused, by name.
	r.write("data/a.csv", "local edit\n")
	res := r.fails("data/a.csv", "checkout", "feature")
	if res.code != exitWorktree {
		t.Fatalf("refusal exit code %d, want %d", res.code, exitWorktree)
	}
	if b, _ := os.ReadFile(r.path("data/a.csv")); string(b) != "local edit\n" {
		t.Fatal("refused checkout still changed the file")
	}
	// A local change the switch does not touch is carried over.
	r.ok("checkout", "--force", "main")
	r.write("untracked.txt", "mine\n")
	r.ok("checkout", "feature")
	if b, _ := os.ReadFile(r.path("untracked.txt")); string(b) != "mine\n" {
		t.Fatal("untracked file lost in checkout")
	}
	os.Remove(r.path("untracked.txt"))
	if d := diffManifests(featureTree, manifest(t, r.dir)); len(d) > 0 {
		t.Fatalf("feature checkout differs:\n%s", strings.Join(d, "\n"))
	}
	// Restore one path from another revision.
	r.ok("checkout", "main", "--", "data/a.csv")
	if b, _ := os.ReadFile(r.path("data/a.csv")); string(b) != "id,v\n1,a\n2,b\n" {
		t.Fatalf("path checkout: %q", b)
	}
	r.ok("checkout", "--force", "feature")

	// Revisions: HEAD~1, short ids, tags.
	logOut := r.ok("log", "--oneline")
	lines := strings.Split(strings.TrimSpace(logOut), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "second") || !strings.Contains(lines[1], "first") {
		t.Fatalf("log --oneline:\n%s", logOut)
	}
	short := strings.Fields(lines[1])[0][:8]
	if got := r.ok("cat", short+":notes.txt"); got != "hello\n" {
		t.Fatalf("cat by short id: %q", got)
	}
	if got := r.ok("cat", "HEAD~1:notes.txt"); got != "hello\n" {
		t.Fatalf("cat HEAD~1: %q", got)
	}
	r.ok("tag", "v1", "HEAD~1")
	if got := r.ok("cat", "v1:notes.txt"); got != "hello\n" {
		t.Fatalf("cat v1: %q", got)
	}
	var entries []map[string]any
	if err := json.Unmarshal([]byte(r.ok("log", "--json")), &entries); err != nil || len(entries) != 2 {
		t.Fatalf("log --json: %v", err)
	}
	if g := r.ok("log", "--graph", "--oneline"); !strings.HasPrefix(g, "* ") {
		t.Fatalf("log --graph: %q", g)
	}
	show := r.ok("show", "HEAD")
	if !strings.Contains(show, "second") || !strings.Contains(show, "4 files changed") {
		t.Fatalf("show:\n%s", show)
	}
	// Branch listing, rename, delete.
	if b := r.ok("branch"); !strings.Contains(b, "* feature") || !strings.Contains(b, "  main") {
		t.Fatalf("branch:\n%s", b)
	}
	var bs []map[string]any
	if err := json.Unmarshal([]byte(r.ok("branch", "--json")), &bs); err != nil || len(bs) != 2 {
		t.Fatalf("branch --json: %s %v", r.ok("branch", "--json"), err)
	}
	r.ok("branch", "-m", "feature", "feat")
	if b := r.ok("branch"); !strings.Contains(b, "* feat") {
		t.Fatalf("rename current branch:\n%s", b)
	}
	r.fails("current branch", "branch", "-d", "feat")
	r.ok("checkout", "main")
	r.fails("not merged", "branch", "-d", "feat")
	r.ok("branch", "-D", "feat")
	r.fails("invalid", "branch", "bad..name")
	r.ok("fsck")
}

// TestNoChangeRecommitReadsNothing: the stat cache means an unchanged
// worktree is not read again.
func TestNoChangeRecommitReadsNothing(t *testing.T) {
	r := newRepo(t)
	for i := 0; i < 50; i++ {
		r.write(fmt.Sprintf("f/%02d.txt", i), strings.Repeat(fmt.Sprintf("line %d\n", i), 1000))
	}
	// Files older than the racy window, as after any real pause.
	old := time.Now().Add(-time.Minute)
	filepath.Walk(r.dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			os.Chtimes(p, old, old)
		}
		return nil
	})
	var first map[string]any
	if err := json.Unmarshal([]byte(r.ok("commit", "-m", "one", "--json")), &first); err != nil {
		t.Fatal(err)
	}
	if first["files_read"].(float64) != 50 {
		t.Fatalf("first commit read %v files, want 50", first["files_read"])
	}
	res := r.run("status", "--json")
	var st map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &st); err != nil {
		t.Fatal(err)
	}
	if st["files_read"].(float64) != 0 {
		t.Fatalf("status after commit read %v files, want 0", st["files_read"])
	}
	if out := r.ok("commit", "-m", "again"); !strings.Contains(out, "nothing to commit") {
		t.Fatalf("no-change commit: %q", out)
	}
	// A modified file with the same size and an old mtime changes ctime:
	// it is still noticed.
	r.write("f/07.txt", strings.Repeat("LINE 7\n", 1000))
	os.Chtimes(r.path("f/07.txt"), old, old)
	if st := r.ok("status", "--short"); st != "M f/07.txt\n" {
		t.Fatalf("status: %q", st)
	}
}

// TestBadInput: a clear one-line error and a non-zero exit, nothing lost.
func TestBadInput(t *testing.T) {
	outside := t.TempDir()
	res := runDx(t, outside, nil, "status")
	checkFailure(t, res, "not a dx repository", []string{"status"})
	r := newRepo(t)
	r.fails("already", "init")
	r.fails("no commits yet", "log")
	r.write("a.txt", "hello\n")
	r.ok("commit", "-m", "one")
	r.fails("unknown revision", "checkout", "nope")
	r.fails("unknown revision", "cat", "nope:a.txt")
	r.fails("does not exist", "cat", "HEAD:missing.txt")
	r.fails("unknown revision", "diff", "HEAD", "zzzzzzz")
	r.fails("no such parent", "log", "HEAD~5")
	r.fails("message", "commit")
	r.fails("unknown flag", "commit", "--bogus")
	// Corrupt a pack: one flipped byte in the middle of the data.
	packs, _ := filepath.Glob(r.path(".dx/packs/*.pack"))
	if len(packs) == 0 {
		t.Fatal("no packs")
	}
	var data string
	for _, p := range packs {
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), "hello") {
			data = p
		}
	}
	if data == "" {
		// Compressed: flip a byte in every pack's blob area instead.
		data = packs[0]
	}
	orig, _ := os.ReadFile(data)
	bad := append([]byte(nil), orig...)
	bad[9] ^= 0xff
	if err := os.WriteFile(data, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	r.fails("problems", "fsck", "--full")
	// Restoring the byte restores everything: nothing was lost or rewritten.
	if err := os.WriteFile(data, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	r.ok("fsck", "--full")
	if got := r.ok("cat", "HEAD:a.txt"); got != "hello\n" {
		t.Fatalf("cat after repair: %q", got)
	}
	// A truncated pack is reported by plain fsck.
	if err := os.WriteFile(data, orig[:len(orig)-10], 0o644); err != nil {
		t.Fatal(err)
	}
	r.fails("problems", "fsck")
	os.WriteFile(data, orig, 0o644)
	r.ok("fsck")
}

// TestGC: unreachable data is reported, removed only with --prune, and
// reachable data survives.
func TestGC(t *testing.T) {
	r := newRepo(t)
	r.write("keep.txt", strings.Repeat("keep\n", 10000))
	r.ok("commit", "-m", "keep")
	r.ok("branch", "tmp")
	r.ok("checkout", "tmp")
	rng := rand.New(rand.NewPCG(3, 3))
	blob := make([]byte, 2<<20)
	for i := range blob {
		blob[i] = byte(rng.IntN(256))
	}
	r.write("drop.bin", string(blob))
	r.ok("commit", "-m", "drop")
	r.ok("checkout", "main")
	r.ok("branch", "-D", "tmp")
	dry := r.ok("gc")
	if !strings.Contains(dry, "would remove") || !strings.Contains(dry, "--prune") {
		t.Fatalf("gc dry run: %q", dry)
	}
	before := dirSize(t, r.path(".dx/packs"))
	r.ok("gc", "--prune")
	after := dirSize(t, r.path(".dx/packs"))
	if before-after < 2<<20 {
		t.Fatalf("gc freed %d bytes, want ≥ 2 MiB", before-after)
	}
	r.ok("fsck", "--full")
	if got := r.ok("cat", "main:keep.txt"); got != strings.Repeat("keep\n", 10000) {
		t.Fatal("reachable data lost by gc")
	}
}

func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}
