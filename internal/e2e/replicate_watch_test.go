package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReplicateWatch: a commit pushed to region A reaches a subscriber on
// region B through `dx replicate a b --watch`, which woke on A's bucket
// notifications and copied the new packs alone (counted against what B
// lacked); the subscriber woke on B's, as after a push.
func TestReplicateWatch(t *testing.T) {
	g := newRegions(t)
	w := g.w
	table, _ := genCSV(2, 20000)
	w.write(".dxattributes", "*.csv table=csv key=id\n")
	w.write("data/t.csv", table)
	w.ok("commit", "-m", "v1")
	w.ok("push", "a")

	watch := exec.Command(dxBin, "replicate", "a", "b", "--watch", "--json", "--refs-interval", "1h")
	watch.Dir, watch.Env = w.dir, append(os.Environ(), w.env...)
	out, stderr := &lockedBuffer{}, &lockedBuffer{}
	watch.Stdout, watch.Stderr = out, stderr
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = watch.Process.Kill() })
	passes := func(n int) []replicateOut {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) >= n && lines[0] != "" {
				var reps []replicateOut
				for _, l := range lines {
					var r replicateOut
					if err := json.Unmarshal([]byte(l), &r); err != nil {
						t.Fatalf("--watch --json line %q: %v", l, err)
					}
					reps = append(reps, r)
				}
				return reps
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d passes, want %d; stderr: %s", len(lines), n, stderr)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	passes(1) // v1 copied
	if !strings.Contains(stderr.String(), "watching on bucket notifications") {
		t.Fatalf("start line: %s", stderr)
	}

	// A subscriber in region B.
	sub := g.b.clone(t)
	log := filepath.Join(t.TempDir(), "handled.log")
	subCmd := exec.Command(dxBin, "subscribe", "origin", "main", "--refs-interval", "1h", "--exec", `echo "$DX_NEW" >> `+log)
	subCmd.Dir, subCmd.Env = sub.dir, append(os.Environ(), sub.env...)
	subErr := &lockedBuffer{}
	subCmd.Stderr = subErr
	if err := subCmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = subCmd.Process.Kill() })
	waitText(t, subErr, "on bucket notifications", 30*time.Second)

	before := objectSizes(t, g.b, "packs/")
	w.write("data/t.csv", table+"20000,appended,1.00,new\n")
	w.ok("commit", "-m", "v2")
	w.ok("push", "a")
	v2 := w.head()
	n, newBytes := lacking(objectSizes(t, g.a, "packs/"), before)
	reps := passes(2)
	got := reps[1]
	if got.Packs != n || got.PackBytes != newBytes || newBytes == 0 {
		t.Fatalf("the pass of v2 copied %d packs (%d bytes); the new packs are %d (%d bytes)", got.Packs, got.PackBytes, n, newBytes)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(log)
		if strings.Contains(string(b), v2) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the subscriber in B did not handle %s: %s", v2, subErr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, c := range []*exec.Cmd{watch, subCmd} {
		_ = c.Process.Signal(os.Interrupt)
		if err := c.Wait(); err != nil {
			t.Fatalf("%s after SIGINT: %v", c.Args[1], err)
		}
	}
}
