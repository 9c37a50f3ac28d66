package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"testing"
)

// TestGCFreedBytes: what gc reports as freed, in text and JSON, dry run and
// prune, is what the prune takes off the disk, whether it deletes whole
// packs, rewrites packs around their live objects or removes the files an
// interrupted write left behind.
func TestGCFreedBytes(t *testing.T) {
	cases := []struct {
		name        string
		setup       func(r *repoDir)
		wantRewrite bool
	}{
		{"whole packs", func(r *repoDir) {
			dropBranch(r, func() { r.write("drop.bin", string(randomBytes(1, 3<<20))) })
		}, false},
		{"repack", func(r *repoDir) {
			// The kept file's chunks share packs with the dropped one's.
			keep := string(randomBytes(2, 400<<10))
			dropBranch(r, func() {
				r.write("drop.bin", string(randomBytes(3, 3<<20)))
				r.write("kept.bin", keep)
			})
			r.write("kept.bin", keep)
			r.ok("commit", "-m", "kept")
		}, true},
		{"leftovers of an interrupted write", func(r *repoDir) {
			for name, n := range map[string]int{".dx/tmp/pack-1.tmp": 1 << 20, ".dx/tmp/staged-2.tmp": 512 << 10, ".dx/packs/part.tmp": 256 << 10} {
				if err := os.WriteFile(r.path(name), randomBytes(uint64(n), n), 0o600); err != nil {
					t.Fatal(err)
				}
			}
		}, false},
	}
	for _, c := range cases {
		for _, asJSON := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/json=%v", c.name, asJSON), func(t *testing.T) {
				r := newRepo(t)
				r.write("keep.txt", "keep\n")
				r.ok("commit", "-m", "keep")
				c.setup(r)
				dry := gcFreed(t, r, asJSON)
				before := storeSize(t, r)
				pruned := gcFreed(t, r, asJSON, "--prune")
				drop := before - storeSize(t, r)
				if drop < 1<<20 {
					t.Fatalf("prune freed only %d bytes on disk", drop)
				}
				for what, got := range map[string]int64{"dry run": dry.freed, "prune": pruned.freed} {
					if diff := got - drop; diff > drop/20 || -diff > drop/20 {
						t.Errorf("%s reports %d bytes freed, disk use dropped by %d", what, got, drop)
					}
				}
				if c.wantRewrite && asJSON && pruned.rewritten == 0 {
					t.Errorf("no pack rewritten: the case does not test a repack")
				}
				r.ok("fsck", "--full")
			})
		}
	}
}

// dropBranch commits what add writes on a branch that is then deleted.
func dropBranch(r *repoDir, add func()) {
	r.t.Helper()
	r.ok("branch", "tmp")
	r.ok("checkout", "tmp")
	add()
	r.ok("commit", "-m", "to drop")
	r.ok("checkout", "main")
	r.ok("branch", "-D", "tmp")
}

type gcResult struct {
	freed     int64
	rewritten int
}

var freeingRE = regexp.MustCompile(`freeing ([0-9.]+) (B|KiB|MiB|GiB)`)

// gcFreed runs dx gc and reads the bytes it says it frees.
func gcFreed(t *testing.T, r *repoDir, asJSON bool, args ...string) gcResult {
	t.Helper()
	args = append([]string{"gc"}, args...)
	if asJSON {
		var rep struct {
			Freed     int64 `json:"freed_bytes"`
			Rewritten int   `json:"packs_rewritten"`
		}
		if err := json.Unmarshal([]byte(r.ok(append(args, "--json")...)), &rep); err != nil {
			t.Fatal(err)
		}
		return gcResult{rep.Freed, rep.Rewritten}
	}
	out := r.ok(args...)
	m := freeingRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("dx %v: no 'freeing' in %q", args, out)
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	unit := map[string]float64{"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[m[2]]
	return gcResult{freed: int64(n * unit)}
}

// storeSize is the size of the files gc may remove: packs and temporary
// files.
func storeSize(t *testing.T, r *repoDir) int64 {
	t.Helper()
	return dirSize(t, r.path(".dx/packs")) + dirSize(t, r.path(".dx/tmp"))
}
