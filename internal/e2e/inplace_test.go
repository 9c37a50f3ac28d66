package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// inPlaceVersions are versions of a table of a few MiB: v1; v2, one row
// updated at the same length (no byte moves); v3, v2 with rows appended;
// v4, v1 with an early row made longer (every row after it moves).
func inPlaceVersions(rows int) []string {
	var b strings.Builder
	b.WriteString("id,name,amount\n")
	for i := range rows {
		fmt.Fprintf(&b, "%d,name %d with some words,%d.%02d\n", i, i%997, i%1000, i%100)
	}
	v1 := b.String()
	v2 := strings.Replace(v1, fmt.Sprintf("\n%d,name", rows/2), fmt.Sprintf("\n%d,NAME", rows/2), 1)
	var more strings.Builder
	for i := rows; i < rows+rows/50; i++ {
		fmt.Fprintf(&more, "%d,name %d appended,%d.%02d\n", i, i%997, i%1000, i%100)
	}
	v3 := v2 + more.String()
	v4 := strings.Replace(v1, "\n100,name", "\n100,NAMES", 1)
	return []string{v1, v2, v3, v4}
}

// commitVersions commits each version of t.csv in turn, its mtime out of
// the stat cache's racy window.
func commitVersions(t *testing.T, r *repoDir, versions []string) {
	t.Helper()
	past := time.Now().Add(-time.Minute)
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	for i, v := range versions {
		r.write("t.csv", v)
		if err := os.Chtimes(r.path("t.csv"), past, past); err != nil {
			t.Fatal(err)
		}
		r.ok("commit", "-m", fmt.Sprintf("v%d", i+1))
	}
}

// checkoutResult is what the tests read of dx checkout --json.
type checkoutResult struct {
	Bytes   int64 `json:"bytes_written"`
	Copied  int64 `json:"bytes_copied"`
	Patched int   `json:"files_patched"`
}

func inodeOfPath(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// TestCheckoutPatchesInPlace: a new version that keeps the old one's
// bytes where they were (a row updated at the same length, rows appended
// or cut off) is written into the file in place, only its changed chunks;
// one whose rows moved is written whole; the file is each version's
// exactly, and status is clean. A file with a second link (outside the
// worktree) is written whole, and the link keeps what it held.
func TestCheckoutPatchesInPlace(t *testing.T) {
	r := newRepo(t)
	versions := inPlaceVersions(60000)
	commitVersions(t, r, versions)
	revs := []string{"main~3", "main~2", "main~1", "main"}
	past := time.Now().Add(-time.Minute)
	checkout := func(v int) checkoutResult {
		t.Helper()
		var res checkoutResult
		if err := json.Unmarshal([]byte(r.ok("checkout", "--json", revs[v])), &res); err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(r.path("t.csv")); err != nil || string(got) != versions[v] {
			t.Fatalf("checkout of v%d: the file is not that version (%v)", v+1, err)
		}
		if st := r.ok("status", "--short"); st != "" {
			t.Fatalf("checkout of v%d: status %q", v+1, st)
		}
		if err := os.Chtimes(r.path("t.csv"), past, past); err != nil {
			t.Fatal(err)
		}
		r.ok("status") // records the file's stat, out of the racy window
		return res
	}
	at := 3 // v4 is checked out
	for _, step := range []struct {
		to      int
		inPlace bool
	}{{0, false}, {1, true}, {2, true}, {1, true}, {0, true}, {2, true}, {3, false}, {0, false}} {
		before := inodeOfPath(t, r.path("t.csv"))
		res := checkout(step.to)
		size := int64(len(versions[step.to]))
		if got := res.Patched == 1; got != step.inPlace {
			t.Fatalf("v%d to v%d: patched in place %v, want %v", at+1, step.to+1, got, step.inPlace)
		}
		if same := inodeOfPath(t, r.path("t.csv")) == before; same != step.inPlace {
			t.Fatalf("v%d to v%d: the same inode %v, want %v", at+1, step.to+1, same, step.inPlace)
		}
		if res.Bytes != size || res.Copied < size*3/4 || res.Copied >= size {
			t.Fatalf("v%d to v%d: %d bytes written, %d of them kept or copied; want %d, all but the changed chunks", at+1, step.to+1, res.Bytes, res.Copied, size)
		}
		at = step.to
	}
	// A second link: written whole, the link untouched.
	link := filepath.Join(t.TempDir(), "link.csv")
	if err := os.Link(r.path("t.csv"), link); err != nil {
		t.Fatal(err)
	}
	if res := checkout(1); res.Patched != 0 {
		t.Fatal("a file with two links was patched in place")
	}
	if got, err := os.ReadFile(link); err != nil || string(got) != versions[0] {
		t.Fatalf("the file's other link changed (%v)", err)
	}
	r.ok("fsck")
}

// TestCrashDuringPatchingCheckout kills checkouts between versions of a
// table at random moments, while they patch the file in place (v1 and
// v2, v2 and v3) or write it whole (to and from v4): after each kill fsck
// is clean, the next command finds the file whole at one version or the
// other (never a mix), and status says which, truthfully.
func TestCrashDuringPatchingCheckout(t *testing.T) {
	r := newRepo(t)
	versions := inPlaceVersions(400000)
	commitVersions(t, r, versions)
	revs := []string{"main~3", "main~2", "main~1", "main"}
	past := time.Now().Add(-time.Minute)
	r.ok("checkout", revs[0])
	if err := os.Chtimes(r.path("t.csv"), past, past); err != nil {
		t.Fatal(err)
	}
	r.ok("status")
	start := time.Now() // kills at random within about a patching checkout
	r.ok("checkout", revs[1])
	full := time.Since(start)
	at := 1 // the version the worktree holds
	rng := rand.New(rand.NewPCG(29, 29))
	for round := range 20 {
		to := (at + 1 + rng.IntN(3)) % 4
		if rng.IntN(2) == 0 { // mostly the versions patched in place
			to = []int{1, 0, 1, 2}[at]
		}
		// The stat cache vouches for the file (so the checkout patches).
		if err := os.Chtimes(r.path("t.csv"), past, past); err != nil {
			t.Fatal(err)
		}
		r.ok("status")
		at = killedCheckout(t, r, round, time.Duration(rng.Int64N(int64(full)*3/2)), versions, revs, at, to)
	}
	// The rounds began as this one does: with the file's stat vouched for,
	// so that the checkout between v1 and v2 patches.
	if at != 0 {
		r.ok("checkout", "--quiet", revs[0])
	}
	if err := os.Chtimes(r.path("t.csv"), past, past); err != nil {
		t.Fatal(err)
	}
	r.ok("status")
	var res checkoutResult
	if err := json.Unmarshal([]byte(r.ok("checkout", "--json", revs[1])), &res); err != nil || res.Patched != 1 {
		t.Fatalf("the checkout of v2 patched %d files in place (%v)", res.Patched, err)
	}
}

// TestMergePatchesInPlace: a merge in the worktree whose result keeps the
// checked-out file's bytes where they are (the other branch updated a row
// at the same length) patches the file in place, keeping its inode; one
// whose rows moved writes it whole. Each time the file is the merge of
// both branches' updates, and status and fsck are clean.
func TestMergePatchesInPlace(t *testing.T) {
	rows := 60000
	v1 := inPlaceVersions(rows)[0]
	update := func(s string, row int, to string) string {
		from := fmt.Sprintf("\n%d,name", row)
		if !strings.Contains(s, from) {
			t.Fatalf("no row %d", row)
		}
		return strings.Replace(s, from, fmt.Sprintf("\n%d,%s", row, to), 1)
	}
	past := time.Now().Add(-time.Minute)
	commit := func(r *repoDir, content, msg string) {
		t.Helper()
		r.write("t.csv", content)
		if err := os.Chtimes(r.path("t.csv"), past, past); err != nil {
			t.Fatal(err)
		}
		r.ok("commit", "-m", msg)
	}
	for _, c := range []struct {
		name, theirs string // what the other branch writes over "name" in its row
		inPlace      bool
	}{{"same length", "NAME", true}, {"longer", "NAMES", false}} {
		t.Run(c.name, func(t *testing.T) {
			r := newRepo(t)
			r.write(".dxattributes", "*.csv table=csv key=id\n")
			commit(r, v1, "v1")
			r.ok("branch", "other")
			ours := update(v1, rows/4, "NAME")
			commit(r, ours, "ours")
			r.ok("checkout", "other")
			commit(r, update(v1, 3*rows/4, c.theirs), "theirs")
			r.ok("checkout", "main")
			r.ok("status") // records the file's stat, out of the racy window
			before := inodeOfPath(t, r.path("t.csv"))
			r.ok("merge", "other")
			want := update(ours, 3*rows/4, c.theirs)
			if got, err := os.ReadFile(r.path("t.csv")); err != nil || string(got) != want {
				t.Fatalf("the merged file is not both updates (%v)", err)
			}
			if same := inodeOfPath(t, r.path("t.csv")) == before; same != c.inPlace {
				t.Fatalf("the same inode after the merge: %v, want %v", same, c.inPlace)
			}
			if st := r.ok("status", "--short"); st != "" {
				t.Fatalf("status after the merge: %q", st)
			}
			r.ok("fsck")
		})
	}
}
