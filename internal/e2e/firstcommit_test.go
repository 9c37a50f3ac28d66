package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// TestFirstCommitLooksUpNothing: the first commit of a repository (its
// index holds no object) stores each distinct content once without looking
// up a single object in the index; a later commit looks there, and still
// stores a copy of old content no more.
func TestFirstCommitLooksUpNothing(t *testing.T) {
	r := newRepo(t)
	const files, distinct = 400, 50
	for i := range files {
		r.write(fmt.Sprintf("d%d/f%03d.txt", i%7, i), strings.Repeat(fmt.Sprintf("content %d\n", i%distinct), 200))
	}
	s := commitStats(t, r, "first")
	if s["index_lookups"] != 0 {
		t.Fatalf("the first commit looked up %d objects in the index", s["index_lookups"])
	}
	if s["chunks_written"] != distinct {
		t.Fatalf("first commit wrote %d chunks for %d distinct files", s["chunks_written"], distinct)
	}
	r.write("new/copy.txt", strings.Repeat("content 3\n", 200))
	r.write("new/fresh.txt", "never seen\n")
	s = commitStats(t, r, "second")
	if s["index_lookups"] == 0 {
		t.Fatal("a commit to a repository with objects did not look in its index")
	}
	if s["chunks_written"] != 1 {
		t.Fatalf("second commit wrote %d chunks, want 1 (the copy is stored already)", s["chunks_written"])
	}
	if out := r.ok("fsck"); !strings.Contains(out, ": ok") {
		t.Fatalf("fsck: %s", out)
	}
}
