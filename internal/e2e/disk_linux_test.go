package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// tmpfs mounts a file system of size bytes for the test (it needs root).
// Where mounting is not permitted the test is skipped, unless
// DX_REQUIRE_TMPFS=1 or DX_REQUIRE_MINIO=1 (make test, CI): then it fails.
func tmpfs(t *testing.T, size int64) string {
	t.Helper()
	dir := t.TempDir()
	tmpfsAt(t, dir, size)
	return dir
}

// tmpfsAt mounts a tmpfs of size bytes on dir, an empty directory, for the
// test, as tmpfs does.
func tmpfsAt(t *testing.T, dir string, size int64) {
	t.Helper()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		msg := fmt.Sprintf("mount -t tmpfs: %v %s: full-disk tests need root (or CAP_SYS_ADMIN)", err, strings.TrimSpace(string(out)))
		if os.Getenv("DX_REQUIRE_TMPFS") == "1" || os.Getenv("DX_REQUIRE_MINIO") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
}

// repoOnTmpfs makes a repository with one commit (of a.txt) on a new
// tmpfs of size bytes, and returns the mount point too.
func repoOnTmpfs(t *testing.T, size int64) (string, *repoDir) {
	t.Helper()
	mnt := tmpfs(t, size)
	r := &repoDir{t: t, dir: filepath.Join(mnt, "w")}
	if err := os.Mkdir(r.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r.ok("init")
	r.write("a.txt", "hello\n")
	r.ok("commit", "-m", "one")
	return mnt, r
}

// fill allocates a file at path that leaves about leave bytes free on its
// file system, and returns a function that deletes it.
func fill(t *testing.T, path string, leave int64) func() {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(path), &st); err != nil {
		t.Fatal(err)
	}
	n := int64(st.Bavail)*st.Bsize - leave
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n > 0 {
		if err := syscall.Fallocate(int(f.Fd()), 0, 0, n); err != nil {
			t.Fatalf("fallocate %d: %v", n, err)
		}
	}
	return func() {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
}

func writeRandom(t *testing.T, path string, n int) {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// failsNoSpace checks a command fails with the one-line no-space error
// (never a crash's goroutine dump) and exit code 1.
func (r *repoDir) failsNoSpace(args ...string) {
	r.t.Helper()
	res := r.fails("dx: no space left on device", args...)
	if res.code != 1 {
		r.t.Fatalf("dx %s: exit %d, want 1", strings.Join(args, " "), res.code)
	}
}

// fsckClean runs dx fsck and fails the test unless it finds no problem.
func (r *repoDir) fsckClean(args ...string) {
	r.t.Helper()
	if out := r.ok(append([]string{"fsck"}, args...)...); !strings.Contains(out, ": ok") {
		r.t.Fatalf("fsck: %s", out)
	}
}

// readersWork runs the commands that only read, which must work on a full
// disk.
func (r *repoDir) readersWork(wantAdded string) {
	r.t.Helper()
	r.ok("log", "--oneline")
	r.ok("show")
	r.ok("cat", "HEAD:a.txt")
	r.ok("branch")
	r.ok("tag")
	r.ok("model", "list")
	r.ok("diff", "HEAD")
	if st := r.ok("status", "-s"); !strings.Contains(st, "A "+wantAdded) {
		r.t.Fatalf("status on a full disk: %q, want %s added", st, wantAdded)
	}
	r.fsckClean()
}

// TestFullDisk: on a file system with next to nothing free, a commit fails
// with a one-line error (it used to die of SIGBUS inside badger, or fail to
// write badger's lock file), reading commands work, and once space is
// freed the commit succeeds and fsck is clean.
func TestFullDisk(t *testing.T) {
	mnt, r := repoOnTmpfs(t, 128<<20)
	writeRandom(t, r.path("b.bin"), 64<<10)
	for _, leave := range []int64{12 << 10, 24 << 10, 48 << 10, 96 << 10, 1 << 20} {
		t.Run(fmt.Sprintf("leave%dKiB", leave>>10), func(t *testing.T) {
			r.t = t
			free := fill(t, filepath.Join(mnt, "filler"), leave)
			defer free()
			r.failsNoSpace("commit", "-m", "two")
			r.failsNoSpace("branch", "b")
			r.readersWork("b.bin")
		})
	}
	r.t = t
	r.ok("commit", "-m", "two")
	r.fsckClean("--full")
	if log := r.ok("log", "--oneline"); strings.Count(log, "\n") != 2 {
		t.Fatalf("log after freeing space: %q", log)
	}
}

// TestDiskFillsDuringCommit: a commit whose packs outgrow the free space
// fails with the one-line error part-way (some packs written), leaves a
// store fsck finds clean, and succeeds once space is freed.
func TestDiskFillsDuringCommit(t *testing.T) {
	mnt, r := repoOnTmpfs(t, 192<<20)
	writeRandom(t, r.path("big.bin"), 40<<20)
	for i := range 200 {
		r.write(fmt.Sprintf("small/%03d.txt", i), strings.Repeat(fmt.Sprint(i), 100))
	}
	packs := func() int {
		ps, _ := filepath.Glob(r.path(".dx/packs/*.pack"))
		return len(ps)
	}
	before := packs()
	// Room for one 16 MiB pack besides the index's reserve (about 60
	// MiB: store/space.go), not for two.
	free := fill(t, filepath.Join(mnt, "filler"), 80<<20)
	r.failsNoSpace("commit", "-m", "two")
	if packs() == before {
		t.Fatal("the commit wrote no pack before it ran out of space")
	}
	r.readersWork("big.bin")
	free()
	r.ok("commit", "-m", "two")
	r.fsckClean("--full")
	got, err := os.ReadFile(r.path("big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if cat := r.ok("cat", "HEAD:big.bin"); cat != string(got) {
		t.Fatal("big.bin read back differs")
	}
}

// TestFullDiskAfterCrash: a writer that died left its pack journal; on a
// full disk the reading commands cannot index its packs again and read the
// index as it is; once there is space, the next command does, and removes
// the journal.
func TestFullDiskAfterCrash(t *testing.T) {
	mnt, r := repoOnTmpfs(t, 128<<20)
	writeRandom(t, r.path("b.bin"), 64<<10)
	packs, err := filepath.Glob(r.path(".dx/packs/*.pack"))
	if err != nil || len(packs) == 0 {
		t.Fatalf("packs: %v %v", packs, err)
	}
	var journal []byte
	for _, p := range packs {
		id, err := hex.DecodeString(strings.TrimSuffix(filepath.Base(p), ".pack"))
		if err != nil {
			t.Fatal(err)
		}
		journal = append(journal, id...)
	}
	if err := os.WriteFile(r.path(".dx/journal"), journal, 0o644); err != nil {
		t.Fatal(err)
	}
	free := fill(t, filepath.Join(mnt, "filler"), 12<<10)
	r.readersWork("b.bin")
	if _, err := os.Stat(r.path(".dx/journal")); err != nil {
		t.Fatalf("the readers on a full disk dropped the journal they could not recover: %v", err)
	}
	free()
	r.ok("log", "--oneline")
	if _, err := os.Stat(r.path(".dx/journal")); !os.IsNotExist(err) {
		t.Fatalf("the journal after a reader recovered it: %v", err)
	}
	r.fsckClean("--full")
}
