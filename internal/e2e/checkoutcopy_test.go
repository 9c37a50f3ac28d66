package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

// TestCheckoutCopiesSharedChunks: switching between two versions of a
// big table that differ in one row, longer in one (so the rows after it
// move), copies the chunks both share from the file in place, within the
// kernel, and writes the rest; the file is then each version's exactly. A file edited in place with its size and mtime
// kept is seen as changed all the same (its inode's change time moved):
// the checkout refuses, and --force writes the version whole.
func TestCheckoutCopiesSharedChunks(t *testing.T) {
	r := newRepo(t)
	var b strings.Builder
	b.WriteString("id,name,amount\n")
	for i := range 60000 {
		fmt.Fprintf(&b, "%d,name %d with some words,%d.%02d\n", i, i%997, i%1000, i%100)
	}
	v1 := b.String()
	v2 := strings.Replace(v1, "\n30000,name", "\n30000,NAMES", 1)
	past := time.Now().Add(-time.Minute)
	commit := func(data, msg string) {
		t.Helper()
		r.write("t.csv", data)
		// Older than the commit by more than the stat cache's racy window.
		if err := os.Chtimes(r.path("t.csv"), past, past); err != nil {
			t.Fatal(err)
		}
		r.ok("commit", "-m", msg)
	}
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	commit(v1, "v1")
	commit(v2, "v2")
	checkout := func(rev, want string) int64 {
		t.Helper()
		var res struct {
			Bytes   int64 `json:"bytes_written"`
			Copied  int64 `json:"bytes_copied"`
			Patched int   `json:"files_patched"`
		}
		if err := json.Unmarshal([]byte(r.ok("checkout", "--json", rev)), &res); err != nil {
			t.Fatal(err)
		}
		if res.Patched != 0 {
			t.Fatalf("checkout %s patched the file in place, though its rows moved", rev)
		}
		got, err := os.ReadFile(r.path("t.csv"))
		if err != nil || string(got) != want {
			t.Fatalf("checkout %s: the file is not that version (%v)", rev, err)
		}
		if res.Bytes != int64(len(want)) {
			t.Fatalf("checkout %s: %d bytes written, want %d", rev, res.Bytes, len(want))
		}
		if err := os.Chtimes(r.path("t.csv"), past, past); err != nil {
			t.Fatal(err)
		}
		r.ok("status") // records the file's stat, now out of the racy window
		return res.Copied
	}
	for _, step := range []struct{ rev, want string }{{"main~1", v1}, {"main", v2}, {"main~1", v1}} {
		if copied := checkout(step.rev, step.want); copied < int64(len(step.want))*8/10 || copied >= int64(len(step.want)) {
			t.Errorf("checkout %s copied %d of %d bytes from the old file; want all but the changed chunks", step.rev, copied, len(step.want))
		}
	}
	// Same size, same mtime, other bytes: the stat cache cannot tell, but
	// the inode's change time can.
	edited := strings.Replace(v1, "\n100,name", "\n100,NAME", 1)
	if err := os.WriteFile(r.path("t.csv"), []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(r.path("t.csv"), past, past); err != nil {
		t.Fatal(err)
	}
	r.fails("t.csv", "checkout", "main")
	r.ok("checkout", "--force", "main")
	if got, _ := os.ReadFile(r.path("t.csv")); string(got) != v2 {
		t.Fatal("checkout --force over an edited file: not v2")
	}
	r.ok("fsck")
}

// TestCrashDuringCopyingCheckout kills `dx checkout` between two versions
// of a big table at random moments, while it copies the chunks they share
// from the file in place: after each kill fsck is clean, the next command
// finds the file whole at one version or the other (never a mix), and
// status says which, truthfully. The table is over 16 MiB, so a replaced
// version goes to the trash (freed after the command returns): kills land
// around that move too, and the trash still empties after them.
func TestCrashDuringCopyingCheckout(t *testing.T) {
	r := newRepo(t)
	var b strings.Builder
	b.WriteString("id,name,amount\n")
	for i := range 460000 {
		fmt.Fprintf(&b, "%d,name %d with some words,%d.%02d\n", i, i%997, i%1000, i%100)
	}
	versions := []string{b.String()}
	if len(versions[0]) < 16<<20 {
		t.Fatalf("the table is %d bytes, under the trash's 16 MiB", len(versions[0]))
	}
	// One row longer: the rows after it move, so the file is copied, not
	// patched in place (TestCrashDuringPatchingCheckout).
	versions = append(versions, strings.Replace(versions[0], "\n200000,name", "\n200000,NAMES", 1))
	past := time.Now().Add(-time.Minute)
	commitVersions(t, r, versions)
	revs := []string{"main~1", "main"}
	start := time.Now()
	r.ok("checkout", revs[0])
	full := time.Since(start)
	at := 0 // the version the worktree holds
	rng := rand.New(rand.NewPCG(23, 23))
	for round := range 16 {
		to := 1 - at
		at = killedCheckout(t, r, round, time.Duration(rng.Int64N(int64(full)*3/2)), versions, revs, at, to)
	}
	// The rounds began as this one does (here made sure of: the file's
	// mtime out of the racy window): with the file's stat recorded by a
	// status, so the checkout copies.
	if err := os.Chtimes(r.path("t.csv"), past, past); err != nil {
		t.Fatal(err)
	}
	r.ok("status")
	var res struct {
		Copied int64 `json:"bytes_copied"`
	}
	if err := json.Unmarshal([]byte(r.ok("checkout", "--json", revs[1-at])), &res); err != nil || res.Copied == 0 {
		t.Fatalf("the checkout copied %d bytes from the old file (%v)", res.Copied, err)
	}
	waitTrashEmpty(t, r, "after the killed checkouts")
}

// killedCheckout kills a checkout of t.csv from version at to version to
// (of versions, at revs) after d, then checks: fsck is clean, the next
// command finds the file whole at one version or the other (never a
// mix), and status says which, truthfully. It returns the version the
// file holds, which HEAD then names.
func killedCheckout(t *testing.T, r *repoDir, round int, d time.Duration, versions, revs []string, at, to int) int {
	t.Helper()
	r.killedAfter(d, "checkout", "--quiet", revs[to])
	if res := r.run("fsck"); res.code != 0 {
		t.Fatalf("round %d: fsck after a killed checkout:\n%s%s", round, res.stdout, res.stderr)
	}
	st := r.ok("status", "--short") // finishes a journal left behind
	got, err := os.ReadFile(r.path("t.csv"))
	if err != nil {
		t.Fatal(err)
	}
	switch string(got) {
	case versions[to]:
		at = to
	case versions[at]:
	default:
		t.Fatalf("round %d: t.csv is neither v%d nor v%d (%d bytes)", round, at+1, to+1, len(got))
	}
	if st != "" {
		t.Fatalf("round %d: status %q with the file whole at v%d", round, st, at+1)
	}
	r.ok("checkout", "--quiet", revs[at]) // HEAD says the version the file holds
	if st := r.ok("status", "--short"); st != "" {
		t.Fatalf("round %d: status %q after a checkout of the version in place", round, st)
	}
	return at
}
