package e2e

import (
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

// aheadTable is a CSV table of about 21 MB (above the size from which a
// pull writes a file ahead): rows drops the row ids given, changes those
// in edit (a tag in the note) and appends extra rows.
func aheadTable(drop, edit map[int]bool, extra int, tag string) []byte {
	var b strings.Builder
	b.WriteString("id,amount,note\n")
	for i := range 600000 + extra {
		switch {
		case drop[i]:
		case edit[i]:
			fmt.Fprintf(&b, "%d,%d,edited %s row %d\n", i, i*7%1000, tag, i)
		default:
			fmt.Fprintf(&b, "%d,%d,note of row number %d\n", i, i*7%1000, i)
		}
	}
	return []byte(b.String())
}

// pullAhead is what dx pull --json says of the files written ahead.
type pullAhead struct {
	WrittenAhead *int  `json:"written_ahead"`
	FromDownload int64 `json:"ahead_from_download"` // chunk bytes written as they downloaded
	FromStore    int64 `json:"ahead_from_store"`    // and from the store after the fetch
}

// pullAheadJSON reads written_ahead from dx pull --json.
func pullAheadJSON(t *testing.T, out string) int {
	return pullAheadOf(t, out).n()
}

func pullAheadOf(t *testing.T, out string) pullAhead {
	t.Helper()
	var res pullAhead
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.WrittenAhead == nil {
		t.Fatalf("pull --json: %v (written_ahead missing?)\n%s", err, out)
	}
	return res
}

func (p pullAhead) n() int { return *p.WrittenAhead }

// noTemporaries fails if a dx temporary file is left in the worktree.
func noTemporaries(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".dx" {
			return filepath.SkipDir
		}
		if strings.HasPrefix(d.Name(), ".dx-tmp-") {
			t.Errorf("temporary %s left behind", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPullWritesAhead: a pull that fast-forwards writes a big changed file
// while its chunks download (written_ahead), with rows removed near its
// start so that its shared runs move; the clone then holds exactly what
// was pushed. The chunks it downloads are written into the file as they
// arrive; after a fetch, the pull writes those of the store. A pull that
// merges, or finds the file changed in the worktree, writes nothing ahead
// and leaves no temporary. Against a directory remote and a real MinIO.
func TestPullWritesAhead(t *testing.T) {
	bothRemotes(t, testPullWritesAhead)
}

func testPullWritesAhead(t *testing.T, rs remoteSetup) {
	a := rs.repo(t)
	writeBytes(t, a.path("data/table.csv"), aheadTable(nil, nil, 0, ""))
	a.write("readme.txt", "v1\n")
	a.ok("commit", "-q", "-m", "v1")
	a.ok("push", "-q")
	b := rs.clone(t)

	writeBytes(t, a.path("data/table.csv"), aheadTable(map[int]bool{10: true, 11: true}, map[int]bool{5000: true, 200000: true, 599999: true}, 3000, "v2"))
	a.write("readme.txt", "v2\n")
	a.ok("commit", "-q", "-m", "v2")
	a.ok("push", "-q")
	settle(t, b) // a pull writes ahead from files the stat cache vouches for
	v2 := aheadTable(map[int]bool{10: true, 11: true}, map[int]bool{5000: true, 200000: true, 599999: true}, 3000, "v2")
	p := pullAheadOf(t, b.ok("pull", "--json"))
	if p.n() != 1 {
		t.Fatalf("the fast-forward wrote %d files ahead; want 1 (data/table.csv)", p.n())
	}
	// Its new chunks all came by the download; the rest is copied.
	if p.FromStore != 0 || p.FromDownload == 0 || p.FromDownload > int64(len(v2)/2) {
		t.Fatalf("the table's chunks were written %d bytes as downloaded and %d from the store; want all as downloaded, and far less than its %d bytes", p.FromDownload, p.FromStore, len(v2))
	}
	if d := diffManifests(manifest(t, a.dir), manifest(t, b.dir)); len(d) > 0 {
		t.Fatalf("after the pull the clone differs: %v", d)
	}
	if st := b.ok("status", "--short"); st != "" {
		t.Fatalf("status after the pull: %q", st)
	}
	noTemporaries(t, b.dir)
	b.ok("fsck")

	// Fetched before: the pull downloads nothing and writes the new
	// chunks from the store.
	writeBytes(t, a.path("data/table.csv"), aheadTable(map[int]bool{10: true, 11: true, 12: true}, map[int]bool{6000: true}, 3500, "v2b"))
	a.ok("commit", "-q", "-m", "v2b")
	a.ok("push", "-q")
	b.ok("fetch", "-q")
	settle(t, b)
	p = pullAheadOf(t, b.ok("pull", "--json"))
	if p.n() != 1 || p.FromDownload != 0 || p.FromStore == 0 {
		t.Fatalf("a pull after a fetch wrote %d files ahead, %d bytes as downloaded and %d from the store; want 1, none and some", p.n(), p.FromDownload, p.FromStore)
	}
	if d := diffManifests(manifest(t, a.dir), manifest(t, b.dir)); len(d) > 0 {
		t.Fatalf("after the pull that follows a fetch the clone differs: %v", d)
	}
	noTemporaries(t, b.dir)

	// Merged, not fast-forwarded: the table comes by the worktree update.
	writeBytes(t, a.path("data/table.csv"), aheadTable(map[int]bool{3: true}, map[int]bool{7: true}, 4000, "v3"))
	a.ok("commit", "-q", "-m", "v3")
	a.ok("push", "-q")
	b.write("local.txt", "b's own\n")
	b.ok("commit", "-q", "-m", "local")
	settle(t, b) // a pull writes ahead from files the stat cache vouches for
	if n := pullAheadJSON(t, b.ok("pull", "--json")); n != 0 {
		t.Fatalf("a merging pull wrote %d files ahead; want 0", n)
	}
	got, err := os.ReadFile(b.path("data/table.csv"))
	if err != nil || string(got) != string(aheadTable(map[int]bool{3: true}, map[int]bool{7: true}, 4000, "v3")) {
		t.Fatalf("the merged table is not v3's (%v)", err)
	}
	noTemporaries(t, b.dir)

	// The table changed in the clone's worktree: the pull (a
	// fast-forward) refuses, and nothing written ahead is left.
	b.ok("push", "-q")
	a.ok("pull", "-q")
	writeBytes(t, a.path("data/table.csv"), aheadTable(map[int]bool{4: true}, nil, 5000, "v4"))
	a.ok("commit", "-q", "-m", "v4")
	a.ok("push", "-q")
	writeBytes(t, b.path("data/table.csv"), aheadTable(map[int]bool{1: true}, nil, 0, "mine"))
	b.fails("local changes", "pull")
	noTemporaries(t, b.dir)
	if got, _ := os.ReadFile(b.path("data/table.csv")); string(got) != string(aheadTable(map[int]bool{1: true}, nil, 0, "mine")) {
		t.Fatal("the refused pull changed the worktree's table")
	}
}

// TestCrashDuringPullAhead kills pulls that write a big table ahead at
// random moments: after each kill fsck is clean, and once the worktree is
// checked out again (as after a killed checkout) nothing of the table
// written ahead is left; in the end a pull completes exactly.
func TestCrashDuringPullAhead(t *testing.T) {
	rs := fileRemote(t)
	a := rs.repo(t)
	writeBytes(t, a.path("table.csv"), aheadTable(nil, nil, 0, ""))
	a.ok("commit", "-q", "-m", "v1")
	a.ok("push", "-q")
	b := rs.clone(t)
	rng := rand.New(rand.NewPCG(23, 5))
	var full time.Duration
	const rounds = 6
	for round := 1; round <= rounds; round++ {
		writeBytes(t, a.path("table.csv"), aheadTable(map[int]bool{round: true}, map[int]bool{1000 * round: true}, 500*round, fmt.Sprint(round)))
		a.ok("commit", "-q", "-m", fmt.Sprint("round ", round))
		a.ok("push", "-q")
		settle(t, b) // a pull writes ahead from files the stat cache vouches for
		if round == 1 {
			// Time one whole pull, to spread the kills over it.
			start := time.Now()
			if n := pullAheadJSON(t, b.ok("pull", "--json")); n != 1 {
				t.Fatalf("the timed pull wrote %d files ahead; want 1", n)
			}
			full = time.Since(start)
			continue
		}
		cmd := exec.Command(dxBin, "pull", "-q")
		cmd.Dir = b.dir
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := time.Duration(rng.Int64N(int64(full)))
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if res := b.run("fsck"); res.code != 0 {
			t.Fatalf("round %d (pull killed after %s): fsck: %s%s", round, delay, res.stdout, res.stderr)
		}
		b.ok("checkout", "-q", "--force", "HEAD")
		noTemporaries(t, b.dir)
	}
	b.ok("pull", "-q")
	if d := diffManifests(manifest(t, a.dir), manifest(t, b.dir)); len(d) > 0 {
		t.Fatalf("pull after crashes differs: %v", d)
	}
	if st := b.ok("status", "--short"); st != "" {
		t.Fatalf("status after the pulls: %q", st)
	}
	b.ok("fsck", "--full")
}
