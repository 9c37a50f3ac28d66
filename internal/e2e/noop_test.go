package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestNoOpCheckoutWritesNoIndex: a checkout of the branch checked out
// changes nothing, and writes nothing to the index (no new table file when
// it closes); a checkout that moves HEAD still records it.
func TestNoOpCheckoutWritesNoIndex(t *testing.T) {
	r := newRepo(t)
	r.write("a.txt", "one\n")
	r.ok("commit", "-m", "one")
	r.ok("branch", "other")
	tables := func() int {
		t.Helper()
		m, err := filepath.Glob(r.path(".dx/index/*.sst"))
		if err != nil {
			t.Fatal(err)
		}
		return len(m)
	}
	r.ok("status")
	before := tables()
	for range 3 {
		r.ok("checkout", "main")
	}
	if after := tables(); after != before {
		t.Fatalf("three checkouts of the branch checked out left %d index tables, from %d", after, before)
	}
	r.ok("checkout", "other")
	if st := r.ok("status"); !strings.Contains(st, "On branch other") {
		t.Fatalf("status after a checkout of other: %q", st)
	}
	r.ok("checkout", "main")
	if st := r.ok("status"); !strings.Contains(st, "On branch main") {
		t.Fatalf("status after a checkout of main: %q", st)
	}
}
