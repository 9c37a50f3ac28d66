package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCrashDuringCommit kills `dx commit` with SIGKILL at random moments.
// After each kill `dx fsck` must be clean (no ref names a missing object),
// and in the end a retried commit succeeds and round-trips.
func TestCrashDuringCommit(t *testing.T) {
	r := newRepo(t)
	rng := rand.New(rand.NewPCG(42, 1))
	gen := func(round int) {
		for i := 0; i < 12; i++ {
			var b strings.Builder
			for j := 0; j < 40000; j++ {
				fmt.Fprintf(&b, "%d,%d,%d,row %d of file %d round %d\n", j, rng.IntN(1e9), rng.IntN(1e6), j, i, round)
			}
			r.write(fmt.Sprintf("data/f%02d.csv", i), b.String())
		}
	}
	gen(0)
	// Time one commit to spread the kills across its whole duration.
	start := time.Now()
	r.ok("commit", "-m", "base")
	full := time.Since(start)
	const rounds = 24
	killed, journaled := 0, 0
	journal := filepath.Join(r.dir, ".dx", "journal")
	for round := 1; round <= rounds; round++ {
		gen(round)
		cmd := exec.CommandContext(context.Background(), dxBin, "commit", "-m", fmt.Sprintf("round %d", round))
		cmd.Dir = r.dir
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := time.Duration(rng.Int64N(int64(full) * 3 / 2))
		time.Sleep(delay)
		if err := cmd.Process.Signal(syscall.SIGKILL); err == nil {
			killed++
		}
		cmd.Wait()
		// A commit killed after it indexed a pack leaves the pack
		// journal; the next open (fsck's, below) indexes its packs
		// again, and its clean close removes it.
		if _, err := os.Stat(journal); err == nil {
			journaled++
		}
		res := r.run("fsck")
		if res.code != 0 {
			t.Fatalf("round %d (killed after %s): fsck failed:\n%s%s", round, delay, res.stdout, res.stderr)
		}
		if res := r.run("log", "--oneline"); res.code != 0 {
			t.Fatalf("round %d: log after crash: %s", round, res.stderr)
		}
	}
	t.Logf("%d of %d commits killed (commit takes %s), %d leaving the pack journal", killed, rounds, full, journaled)
	want := manifest(t, r.dir)
	out := r.ok("commit", "-m", "retry")
	if !strings.Contains(out, "retry") && !strings.Contains(out, "nothing to commit") {
		t.Fatalf("retried commit: %q", out)
	}
	if _, err := os.Stat(journal); err == nil {
		t.Fatal("the pack journal outlived a commit that finished")
	}
	r.ok("fsck", "--full")
	r.ok("gc", "--prune")
	r.ok("fsck", "--full")
	clearWorktree(t, r.dir)
	r.ok("checkout", "--force", "HEAD")
	if d := diffManifests(want, manifest(t, r.dir)); len(d) > 0 {
		t.Fatalf("after crashes, checkout differs:\n%s", strings.Join(d, "\n"))
	}
	if st := r.ok("status", "--short"); st != "" {
		t.Fatalf("status: %q", st)
	}
	_ = os.Getpid
}

// killedAfter runs dx in r and kills it with SIGKILL after delay (if it
// has not ended by then).
func (r *repoDir) killedAfter(delay time.Duration, args ...string) {
	r.t.Helper()
	cmd := exec.Command(dxBin, args...)
	cmd.Dir = r.dir
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	time.Sleep(delay)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
}

// TestCrashDuringMerge kills `dx merge` (a row-level table merge) at random
// moments: fsck stays clean, the merge state (if any) aborts cleanly or the
// worktree is restored with a forced checkout, and the merge then gives the
// same result as an uninterrupted one.
func TestCrashDuringMerge(t *testing.T) {
	r := newRepo(t)
	text, rows := genCSV(9, 120000)
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	r.write("t.csv", text)
	r.ok("commit", "-m", "base")
	r.ok("branch", "theirs")
	edit := func(prefix string, every, rem int) { // every even: disjoint sides
		var b strings.Builder
		b.WriteString("id,name,amount,note\n")
		for i := 0; i < 120000; i++ {
			rec := rows[fmt.Sprint(i)]
			if i%every == rem {
				rec = append([]string(nil), rec...)
				rec[1] = prefix + rec[1]
			}
			b.WriteString(csvLine(rec))
		}
		r.write("t.csv", b.String())
	}
	edit("ours-", 998, 0)
	r.ok("commit", "-m", "ours")
	oursID := strings.Fields(r.ok("log", "--oneline", "-n", "1"))[0]
	r.ok("checkout", "theirs")
	edit("theirs-", 1010, 1)
	r.ok("commit", "-m", "theirs")
	// An uninterrupted merge, for reference.
	r.ok("checkout", "--force", oursID)
	start := time.Now()
	r.ok("merge", "theirs")
	full := time.Since(start)
	want := manifest(t, r.dir)
	rng := rand.New(rand.NewPCG(5, 5))
	for round := 1; round <= 12; round++ {
		r.ok("checkout", "--force", oursID)
		r.killedAfter(time.Duration(rng.Int64N(int64(full)*3/2)), "merge", "theirs")
		if res := r.run("fsck"); res.code != 0 {
			t.Fatalf("round %d: fsck after a killed merge:\n%s%s", round, res.stdout, res.stderr)
		}
		if st := r.ok("status"); strings.Contains(st, "Merging") {
			r.ok("merge", "--abort")
		}
		r.ok("checkout", "--force", "HEAD")
		if st := r.ok("status", "--short"); st != "" {
			t.Fatalf("round %d: worktree not restored: %q", round, st)
		}
	}
	r.ok("checkout", "--force", oursID)
	r.ok("merge", "theirs")
	if d := diffManifests(want, manifest(t, r.dir)); len(d) > 0 {
		t.Fatalf("merge after crashes differs:\n%s", strings.Join(d, "\n"))
	}
	r.ok("fsck", "--full")
}

// TestStaleTempFilesRemoved: a temporary file a killed checkout left is
// removed by the next command that scans the worktree, never versioned;
// a user's file with a name like dx's temporaries (another repository's
// id, or none) is data, kept and versioned.
func TestStaleTempFilesRemoved(t *testing.T) {
	r := newRepo(t)
	r.write("a.txt", "a\n")
	r.ok("commit", "-m", "a")
	id, err := os.ReadFile(r.path(".dx/REPO_ID"))
	if err != nil {
		t.Fatal(err)
	}
	prefix := ".dx-tmp-" + strings.TrimSpace(string(id)) + "-"
	r.write(prefix+"999-1", "")
	r.write("sub/"+prefix+"999-2", "partial")
	r.write(".dx-tmp-notes.txt", "notes\n")
	r.write("sub/.dx-tmp-0123456789abcdef-1-1", "someone else's\n")
	if st := r.ok("status", "--short"); st != "A .dx-tmp-notes.txt\nA sub/.dx-tmp-0123456789abcdef-1-1\n" {
		t.Fatalf("status: %q", st)
	}
	for _, p := range []string{prefix + "999-1", "sub/" + prefix + "999-2"} {
		if _, err := os.Stat(r.path(p)); !os.IsNotExist(err) {
			t.Errorf("%s left behind: %v", p, err)
		}
	}
	r.ok("commit", "-m", "notes")
	if got := r.ok("cat", "HEAD:.dx-tmp-notes.txt"); got != "notes\n" {
		t.Fatalf("committed notes = %q", got)
	}
	if b, err := os.ReadFile(r.path(".dx-tmp-notes.txt")); err != nil || string(b) != "notes\n" {
		t.Fatalf("user file .dx-tmp-notes.txt: %q, %v", b, err)
	}
}

// TestCrashDuringPushAndPull kills `dx push` and `dx pull` with SIGKILL at
// random moments. After each kill the local store is valid, the remote
// indexes only packs it holds and its branch names only what it has, and
// in the end a retried push and pull complete and round-trip.
func TestCrashDuringPushAndPull(t *testing.T) {
	rs := fileRemote(t)
	a := rs.repo(t)
	rng := rand.New(rand.NewPCG(8, 8))
	gen := func(round int) {
		for i := 0; i < 4; i++ {
			writeBytes(t, a.path(fmt.Sprintf("blobs/r%02d-%d.bin", round, i)), randomBytes(uint64(round*10+i), 3<<20))
		}
	}
	gen(0)
	a.ok("commit", "-m", "base")
	a.ok("push")
	b := rs.clone(t)
	remoteOK := func(round int) {
		idx, _ := filepath.Glob(filepath.Join(rs.dir, "index", "*.idx"))
		for _, p := range idx {
			id := strings.TrimSuffix(filepath.Base(p), ".idx")
			if _, err := os.Stat(filepath.Join(rs.dir, "packs", id+".pack")); err != nil {
				t.Fatalf("round %d: the remote indexes pack %s it does not hold", round, id)
			}
		}
	}
	kill := func(r *repoDir, full time.Duration, args ...string) time.Duration {
		cmd := exec.Command(dxBin, args...)
		cmd.Dir = r.dir
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := time.Duration(rng.Int64N(int64(full) * 3 / 2))
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		return delay
	}
	// Time one push of a round's data, to spread the kills over it.
	gen(99)
	a.ok("commit", "-m", "timing")
	start := time.Now()
	a.ok("push")
	pushTime := time.Since(start)
	// Pushes killed part way.
	const rounds = 8
	for round := 1; round <= rounds; round++ {
		gen(round)
		a.ok("commit", "-m", fmt.Sprintf("round %d", round))
		delay := kill(a, pushTime, "push")
		if res := a.run("fsck"); res.code != 0 {
			t.Fatalf("round %d (push killed after %s): fsck: %s%s", round, delay, res.stdout, res.stderr)
		}
		remoteOK(round)
	}
	a.ok("push")
	remoteOK(rounds + 1)
	// Pulls killed part way; a killed pull may leave the worktree part
	// updated, which checkout --force HEAD puts back, as after a killed
	// checkout.
	start = time.Now()
	rs.clone(t)
	pullTime := time.Since(start)
	for round := 1; round <= rounds; round++ {
		delay := kill(b, pullTime, "pull")
		if res := b.run("fsck"); res.code != 0 {
			t.Fatalf("round %d (pull killed after %s): fsck: %s%s", round, delay, res.stdout, res.stderr)
		}
		b.ok("checkout", "--force", "HEAD")
	}
	b.ok("pull")
	if d := diffManifests(manifest(t, a.dir), manifest(t, b.dir)); len(d) > 0 {
		t.Fatalf("pull after crashes differs: %v", d)
	}
	b.ok("fsck", "--full")
}

// TestCrashDuringGC kills `dx gc --prune` with SIGKILL at random moments
// while it deletes whole packs and rewrites packs that are partly live
// (their objects moved, the location files merged and listed anew): after
// each kill fsck is clean and main's files check out as committed; in the
// end a gc finishes and frees what is unreachable.
func TestCrashDuringGC(t *testing.T) {
	r := newRepo(t)
	rng := rand.New(rand.NewPCG(43, 1))
	text := func(n int, tag string) string {
		var b strings.Builder
		for j := range n {
			fmt.Fprintf(&b, "%d,%d,%s row %d\n", j, rng.IntN(1e9), tag, j)
		}
		return b.String()
	}
	r.write("base.csv", text(20000, "base"))
	r.ok("commit", "-q", "-m", "base")
	const rounds = 12
	var full time.Duration
	for round := 1; round <= rounds; round++ {
		// A branch whose commit shares its packs: junk.csv dies with the
		// branch, keep.csv lives on in main.
		keep := text(2000, fmt.Sprintf("keep %d", round))
		r.ok("branch", "junk")
		r.ok("checkout", "-q", "junk")
		r.write("junk.csv", text(60000, fmt.Sprintf("junk %d", round)))
		r.write(fmt.Sprintf("keep%02d.csv", round), keep)
		r.ok("commit", "-q", "-m", "junk")
		r.ok("checkout", "-q", "main")
		r.write(fmt.Sprintf("keep%02d.csv", round), keep)
		r.ok("commit", "-q", "-m", fmt.Sprintf("keep %d", round))
		r.ok("branch", "-D", "junk")
		want := manifest(t, r.dir)
		if round == 1 {
			// Time one gc to spread the kills across a whole one.
			r.ok("branch", "junk2")
			r.ok("checkout", "-q", "junk2")
			r.write("junk.csv", text(60000, "timing"))
			r.ok("commit", "-q", "-m", "junk")
			r.ok("checkout", "-q", "main")
			r.ok("branch", "-D", "junk2")
			start := time.Now()
			r.ok("gc", "--prune")
			full = time.Since(start)
			continue
		}
		r.killedAfter(time.Duration(rng.Int64N(int64(full)*3/2)), "gc", "--prune")
		if res := r.run("fsck"); res.code != 0 {
			t.Fatalf("round %d: fsck after a killed gc:\n%s%s", round, res.stdout, res.stderr)
		}
		clearWorktree(t, r.dir)
		r.ok("checkout", "--force", "main")
		if d := diffManifests(want, manifest(t, r.dir)); len(d) > 0 {
			t.Fatalf("round %d: after a killed gc, main differs:\n%s", round, strings.Join(d, "\n"))
		}
	}
	r.ok("gc", "--prune")
	var rep struct {
		Freed     int64 `json:"freed_bytes"`
		Deleted   int   `json:"packs_deleted"`
		Rewritten int   `json:"packs_rewritten"`
	}
	if err := json.Unmarshal([]byte(r.ok("gc", "--prune", "--json")), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Freed != 0 || rep.Deleted != 0 || rep.Rewritten != 0 {
		t.Fatalf("a gc after a finished one still frees: %+v", rep)
	}
	r.fsckClean("--full")
	if st := r.ok("status", "--short"); st != "" {
		t.Fatalf("status: %q", st)
	}
}
