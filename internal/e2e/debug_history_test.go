package e2e

import (
	"strings"
	"testing"
)

// TestDebugHistory: dx debug history appends small commits to the current
// branch straight to the store (the benchmark's long history), on top of
// a commit made by hand; they read as any others and fsck passes.
func TestDebugHistory(t *testing.T) {
	r := newRepo(t)
	r.env = []string{"DX_DATE=2026-01-02T03:04:05Z"}
	r.write("a.txt", "a\n")
	r.ok("commit", "-m", "By hand")
	if out := r.ok("debug", "history", "3"); !strings.HasPrefix(out, "appended 3 commits, the last ") {
		t.Errorf("stdout %q", out)
	}
	var subjects []string
	for _, l := range strings.Split(strings.TrimSpace(r.ok("log", "--oneline")), "\n") {
		subjects = append(subjects, strings.SplitN(l, " ", 2)[1])
	}
	if got := strings.Join(subjects, "|"); got != "(HEAD -> main) Step 4|Step 3|Step 2|By hand" {
		t.Errorf("log: %s", got)
	}
	if got := r.ok("cat", "HEAD:steps.txt"); got != "step 4\n" {
		t.Errorf("HEAD:steps.txt %q", got)
	}
	r.ok("fsck", "--full")
	if res := r.fails("not a number of commits", "debug", "history", "0"); res.code != 2 {
		t.Errorf("exit %d, want 2", res.code)
	}
}
