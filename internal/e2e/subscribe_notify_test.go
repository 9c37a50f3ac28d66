package e2e

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dxdata/dx/internal/s3test"
)

// TestSubscribeNotified: on MinIO, a subscriber polling only every hour
// handles a push within seconds (only a bucket notification can have woken
// it), says so at start, and still does after MinIO restarts under it.
func TestSubscribeNotified(t *testing.T) {
	srv := s3test.Start(t)
	s := newSubscription(t, s3Remote(t, srv))
	v1 := s.pub.head()
	cmd, stderr := s.start("--interval", "1h", "--exec", s.command("true"))
	s.waitFor("done", " "+v1, 1, 20*time.Second)
	if !strings.Contains(stderr.String(), "on bucket notifications") {
		t.Fatalf("start line does not name notifications: %s", stderr)
	}
	v2 := s.publish()
	s.waitFor("done", v1+" "+v2, 1, 20*time.Second)

	// The listener drops with the server and comes back: a push after
	// the restart is handled without waiting out the hour.
	srv.Restart(t)
	v3 := s.publish()
	s.waitFor("done", v2+" "+v3, 1, 60*time.Second)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v (want exit 0); stderr: %s", err, stderr)
	}
}

// TestSubscribePolling: on a directory remote the subscriber says it polls.
func TestSubscribePolling(t *testing.T) {
	s := newSubscription(t, fileRemote(t))
	cmd, stderr := s.start("--interval", "50ms", "--exec", s.command("true"))
	s.waitFor("done", " "+s.pub.head(), 1, 20*time.Second)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v (want exit 0); stderr: %s", err, stderr)
	}
	if !strings.Contains(stderr.String(), "by polling its refs every 50ms") {
		t.Fatalf("start line does not name polling: %s", stderr)
	}
}
