package e2e

import (
	"bytes"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestBigFilesFreedAfterReturn: a checkout that replaces one big file and
// removes another leaves the worktree at the version asked for, and the
// old files are freed after it returns, by the detached dx it starts: the
// trash empties, and the inode of the replaced file, held open here, ends
// with no name. A file a killed command left in the trash is freed after
// the next command, whatever it is.
func TestBigFilesFreedAfterReturn(t *testing.T) {
	r := newRepo(t)
	rng := rand.New(rand.NewPCG(7, 23))
	big := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('a' + rng.IntN(16))
		}
		return string(b)
	}
	v1, gone := big(20<<20), big(18<<20)
	r.write("big.bin", v1)
	r.write("gone.bin", gone)
	r.ok("commit", "-m", "v1")
	v2 := v1[:5<<20] + "an insertion that moves every byte after it" + v1[5<<20:]
	r.write("big.bin", v2)
	if err := os.Remove(r.path("gone.bin")); err != nil {
		t.Fatal(err)
	}
	r.ok("commit", "-m", "v2")

	r.ok("checkout", "main~1")
	old, err := os.Open(r.path("big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	r.ok("checkout", "main")
	if got, err := os.ReadFile(r.path("big.bin")); err != nil || !bytes.Equal(got, []byte(v2)) {
		t.Fatalf("big.bin is not v2 after the checkout (%v)", err)
	}
	if _, err := os.Stat(r.path("gone.bin")); !os.IsNotExist(err) {
		t.Fatalf("gone.bin is still there after a checkout of a version without it (%v)", err)
	}
	waitTrashEmpty(t, r, "after the checkout")
	var st syscall.Stat_t
	if err := syscall.Fstat(int(old.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	if st.Nlink != 0 {
		t.Fatalf("the replaced big.bin still has %d names", st.Nlink)
	}

	// What a kill after the move into the trash leaves.
	if err := os.WriteFile(r.path(".dx/trash/left-by-a-kill"), []byte(big(1<<20)), 0o644); err != nil {
		t.Fatal(err)
	}
	r.ok("status")
	waitTrashEmpty(t, r, "after dx status")
	r.ok("fsck")
}

// waitTrashEmpty waits (up to 20 s) for the repository's trash to be
// empty: freed by the detached dx a command started.
func waitTrashEmpty(t *testing.T, r *repoDir, why string) {
	t.Helper()
	trash := r.path(".dx/trash")
	deadline := time.Now().Add(20 * time.Second)
	for {
		ents, err := os.ReadDir(trash)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if len(ents) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the trash still holds %d files after 20 s", why, len(ents))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
