package e2e

import (
	"bytes"
	"fmt"
	"os"
	"testing"
)

// TestTrashOnAnotherFileSystem: a big file replaced on a file system other
// than the repository's (a tmpfs mounted in the worktree) cannot be moved
// into the trash: it is removed at once, and the checkout goes on.
func TestTrashOnAnotherFileSystem(t *testing.T) {
	r := newRepo(t)
	if err := os.Mkdir(r.path("data"), 0o755); err != nil {
		t.Fatal(err)
	}
	tmpfsAt(t, r.path("data"), 256<<20)
	var b bytes.Buffer
	for i := 0; b.Len() < 17<<20; i++ {
		fmt.Fprintf(&b, "line %d of a file over 16 MiB\n", i)
	}
	v1 := b.Bytes()
	// Every byte after the new first line moves: the file is written anew
	// and the old one discarded, not patched in place.
	v2 := append([]byte("a new first line\n"), v1...)
	r.write("data/big.txt", string(v1))
	r.ok("commit", "-m", "v1")
	r.write("data/big.txt", string(v2))
	r.ok("commit", "-m", "v2")
	for _, step := range []struct {
		rev  string
		want []byte
	}{{"main~1", v1}, {"main", v2}} {
		r.ok("checkout", step.rev)
		if got, err := os.ReadFile(r.path("data/big.txt")); err != nil || !bytes.Equal(got, step.want) {
			t.Fatalf("data/big.txt is not %s after its checkout (%v)", step.rev, err)
		}
		if ents, err := os.ReadDir(r.path("data")); err != nil || len(ents) != 1 {
			t.Fatalf("data holds %v (%v), want only big.txt", ents, err)
		}
	}
	waitTrashEmpty(t, r, "after the checkouts")
	r.ok("fsck")
	if st := r.ok("status", "--short"); st != "" {
		t.Fatalf("status %q after the checkouts", st)
	}
}
