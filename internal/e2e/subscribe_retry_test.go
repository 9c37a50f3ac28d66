package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSubscribeRetry: dx subscribe --retry re-runs a failed delta now. A
// running subscriber in back-off is asked to (it says so and handles the
// delta); without one, --retry handles it itself with the command last
// used, and then finds nothing to retry.
func TestSubscribeRetry(t *testing.T) {
	s := newSubscription(t, fileRemote(t))
	v1 := s.pub.head()
	broken := filepath.Join(t.TempDir(), "broken")
	if err := os.WriteFile(broken, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	failing := s.command(fmt.Sprintf("[ ! -e %s ]", broken))

	// Without a running subscriber.
	s.sub.fails("command failed", "subscribe", "origin", "main", "--once", "--exec", failing)
	if got := s.sub.ok("subscribe", "--status"); !strings.Contains(got, "last error (1 in a row, on "+v1[:12]) {
		t.Fatalf("status does not name the failed head:\n%s", got)
	}
	if err := os.Remove(broken); err != nil {
		t.Fatal(err)
	}
	s.sub.ok("subscribe", "--retry") // the command last used, every failed branch
	if got := s.lines("done"); len(got) != 1 || got[0] != " "+v1 {
		t.Fatalf("after --retry: done %q, want one run to %s", got, v1)
	}
	res := s.sub.fails("nothing to retry", "subscribe", "--retry")
	if res.code != 1 {
		t.Fatalf("nothing to retry: exit %d, want 1", res.code)
	}

	// With a running subscriber, in back-off after three failures.
	if err := os.WriteFile(broken, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, stderr := s.start("--interval", "50ms", "--exec", failing)
	v2 := s.publish()
	waitText(t, stderr, "(attempt 3; retrying in", 30*time.Second)
	if err := os.Remove(broken); err != nil {
		t.Fatal(err)
	}
	out := s.sub.ok("subscribe", "--retry", "origin", "main")
	if !strings.Contains(out, fmt.Sprintf("asked the running subscriber (pid %d) to retry now", cmd.Process.Pid)) {
		t.Fatalf("--retry with a subscriber running: %q", out)
	}
	s.waitFor("done", v1+" "+v2, 1, 20*time.Second)
	stopSubscriber(t, cmd, stderr)
	if !strings.Contains(stderr.String(), "retrying the failed branches now, as asked") {
		t.Fatalf("the subscriber does not say it was asked to retry: %s", stderr)
	}
}
