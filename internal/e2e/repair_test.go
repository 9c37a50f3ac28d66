package e2e

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// damageIndex flips a bit of every entry's offset in r's location files:
// their shape still opens, their checksums fail, and no object is where
// they say.
func damageIndex(t *testing.T, r *repoDir) {
	t.Helper()
	files, err := filepath.Glob(r.path(".dx/locs/*.loc"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no location file: %v", err)
	}
	const header, entry = 8, 56 // the location file's layout
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		n := binary.LittleEndian.Uint64(b[len(b)-56:]) // the trailer's count
		for i := range int(n) {
			b[header+i*entry+41] ^= 1
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func repairRepo(t *testing.T) (*repoDir, map[string]string) {
	r := newRepo(t)
	rng := rand.New(rand.NewPCG(8, 1))
	for i := range 3 {
		var b strings.Builder
		for j := range 20000 {
			fmt.Fprintf(&b, "%d,%d,file %d\n", j, rng.IntN(1e9), i)
		}
		r.write(fmt.Sprintf("t%d.csv", i), b.String())
	}
	writeBytes(t, r.path("blob.bin"), randomBytes(9, 3<<20))
	r.ok("commit", "-q", "-m", "one")
	r.write("t0.csv", "id,v\n1,2\n")
	r.ok("commit", "-q", "-m", "two")
	return r, manifest(t, r.dir)
}

// TestFsckRepair: a location file damaged inside makes fsck and every read
// fail with exit 8 and say what to run; dx fsck --repair rebuilds the
// index from the packs, and the repository is whole again.
func TestFsckRepair(t *testing.T) {
	r, want := repairRepo(t)
	damageIndex(t, r)
	r.exits(exitDamaged, "dx fsck --repair rebuilds the object index", "fsck")
	clearWorktree(t, r.dir)
	r.exits(exitDamaged, "dx fsck says what is damaged", "checkout", "--force", "main")
	out := r.ok("fsck", "--repair")
	if !strings.Contains(out, "repaired: rebuilt the object index from") || !strings.Contains(out, "damaged location files replaced") || !strings.Contains(out, ": ok") {
		t.Fatalf("fsck --repair: %s", out)
	}
	r.fsckClean("--full")
	r.ok("checkout", "--force", "main")
	if d := diffManifests(want, manifest(t, r.dir)); len(d) > 0 {
		t.Fatalf("after the repair, main differs:\n%s", strings.Join(d, "\n"))
	}
	if got := r.ok("log", "--oneline"); strings.Count(got, "\n") != 2 {
		t.Fatalf("log after the repair: %q", got)
	}
	// A sound store: --repair checks and changes nothing.
	before := manifest(t, r.path(".dx/locs"))
	if out := r.ok("fsck", "--repair"); strings.Contains(out, "repaired") {
		t.Fatalf("fsck --repair of a sound store: %s", out)
	}
	if d := diffManifests(before, manifest(t, r.path(".dx/locs"))); len(d) > 0 {
		t.Fatalf("fsck --repair of a sound store changed the index: %v", d)
	}
	// As JSON: the last check's report, and the repair's.
	damageIndex(t, r)
	var rep struct {
		Problems []string `json:"problems"`
		Repair   struct {
			Packs   int `json:"packs"`
			Objects int `json:"objects"`
			Damaged int `json:"damaged_files"`
		} `json:"repair"`
	}
	if err := json.Unmarshal([]byte(r.ok("fsck", "--repair", "--json")), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 0 || rep.Repair.Damaged == 0 || rep.Repair.Packs == 0 || rep.Repair.Objects == 0 {
		t.Fatalf("fsck --repair --json: %+v", rep)
	}
}

// TestCrashDuringRepair kills dx fsck --repair at random moments: the
// next one finishes the job, and the repository is whole.
func TestCrashDuringRepair(t *testing.T) {
	r, want := repairRepo(t)
	rng := rand.New(rand.NewPCG(44, 1))
	damageIndex(t, r)
	start := time.Now()
	r.ok("fsck", "--repair")
	full := time.Since(start)
	for round := range 10 {
		damageIndex(t, r)
		r.killedAfter(time.Duration(rng.Int64N(int64(full)*3/2)), "fsck", "--repair")
		if res := r.run("fsck", "--repair"); res.code != 0 {
			t.Fatalf("round %d: fsck --repair after a killed one:\n%s%s", round, res.stdout, res.stderr)
		}
		r.fsckClean()
		clearWorktree(t, r.dir)
		r.ok("checkout", "--force", "main")
		if d := diffManifests(want, manifest(t, r.dir)); len(d) > 0 {
			t.Fatalf("round %d: after a killed repair, main differs:\n%s", round, strings.Join(d, "\n"))
		}
	}
	if ents, _ := os.ReadDir(r.path(".dx/locs")); len(ents) != 1 {
		t.Fatalf("%d location files after the repairs", len(ents))
	}
}
