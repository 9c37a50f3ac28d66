package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dxdata/dx/internal/s3test"
)

// stopSubscriber sends SIGTERM and checks the subscriber exits 0.
func stopSubscriber(t *testing.T, cmd *exec.Cmd, stderr *lockedBuffer) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v (want exit 0); stderr: %s", err, stderr)
	}
}

// TestSubscribeNotified: on MinIO, a subscriber that neither polls nor
// reads its refs for an hour handles a push within seconds (only a bucket
// notification can have woken it), says so at start, and still does
// after MinIO restarts under it, catching up on a push made before its
// listener is back.
func TestSubscribeNotified(t *testing.T) {
	srv := s3test.Start(t)
	s := newSubscription(t, s3Remote(t, srv))
	v1 := s.pub.head()
	cmd, stderr := s.start("--interval", "1h", "--refs-interval", "1h", "--exec", s.command("true"))
	s.waitFor("done", " "+v1, 1, 20*time.Second)
	if !strings.Contains(stderr.String(), "on bucket notifications") {
		t.Fatalf("start line does not name notifications: %s", stderr)
	}
	v2 := s.publish()
	s.waitFor("done", v1+" "+v2, 1, 20*time.Second)

	// The listener drops with the server and comes back: a push made
	// before it is back is handled without waiting out the hour.
	srv.Restart(t)
	v3 := s.publish()
	s.waitFor("done", v2+" "+v3, 1, 60*time.Second)
	stopSubscriber(t, cmd, stderr)
}

// TestSubscribePollsEvents: where there are no notifications (a directory
// remote) the subscriber lists events/ every --interval, and a new event
// wakes it: with its refs read only hourly, the push is handled at once.
func TestSubscribePollsEvents(t *testing.T) {
	s := newSubscription(t, fileRemote(t))
	v1 := s.pub.head()
	cmd, stderr := s.start("--interval", "50ms", "--refs-interval", "1h", "--exec", s.command("true"))
	s.waitFor("done", " "+v1, 1, 20*time.Second)
	if !strings.Contains(stderr.String(), "by polling events/ every 50ms, reading its refs at least every 1h0m0s") {
		t.Fatalf("start line does not name polling: %s", stderr)
	}
	v2 := s.publish()
	s.waitFor("done", v1+" "+v2, 1, 20*time.Second)
	stopSubscriber(t, cmd, stderr)
}

// TestSubscribeEventsAreHints: a running subscriber misses no commit
// whose event is lost (a pusher killed between its ref and its event) or
// named by a pusher whose clock runs 10 minutes behind (the event sorts
// before what the subscriber lists): the refs, read every
// --refs-interval, bring both. The subscriber is stopped (SIGSTOP) while
// each push lands and its event is removed or renamed, so that it cannot
// see the event first.
func TestSubscribeEventsAreHints(t *testing.T) {
	rs := fileRemote(t)
	s := newSubscription(t, rs)
	v1 := s.pub.head()
	cmd, stderr := s.start("--interval", "50ms", "--refs-interval", "1s", "--exec", s.command("true"))
	s.waitFor("done", " "+v1, 1, 20*time.Second)
	events := filepath.Join(rs.dir, "events")
	newEvent := func(before map[string]bool) string {
		t.Helper()
		ents, err := os.ReadDir(events)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if !before[e.Name()] {
				return e.Name()
			}
		}
		t.Fatal("the push wrote no event")
		return ""
	}
	listEvents := func() map[string]bool {
		ents, _ := os.ReadDir(events)
		m := map[string]bool{}
		for _, e := range ents {
			m[e.Name()] = true
		}
		return m
	}
	for _, c := range []struct {
		name  string
		spoil func(event string)
	}{
		{"lost event", func(event string) {
			if err := os.Remove(filepath.Join(events, event)); err != nil {
				t.Fatal(err)
			}
		}},
		{"clock 10 minutes behind", func(event string) {
			stamp, rest, _ := strings.Cut(event, "-")
			ns, err := strconv.ParseInt(stamp, 10, 64)
			if err != nil {
				t.Fatalf("event %s: %v", event, err)
			}
			skewed := fmt.Sprintf("%020d-%s", ns-int64(10*time.Minute), rest)
			if err := os.Rename(filepath.Join(events, event), filepath.Join(events, skewed)); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		old := s.pub.head()
		if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		before := listEvents()
		head := s.publish()
		c.spoil(newEvent(before))
		if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		s.waitFor("done", old+" "+head, 1, 20*time.Second)
		t.Logf("%s: handled", c.name)
	}
	stopSubscriber(t, cmd, stderr)
}

// TestSubscribeRemoteErrors: wrong credentials and an unreachable endpoint
// are one line each: with --once, exit 1 and the cursor unmoved; running,
// a report with its retry, and the subscriber keeps going.
func TestSubscribeRemoteErrors(t *testing.T) {
	srv := s3test.Start(t)
	rs := s3Remote(t, srv)
	s := newSubscription(t, rs)
	good := s.sub.env
	s.sub.env = []string{"AWS_ACCESS_KEY_ID=" + srv.AccessKey, "AWS_SECRET_ACCESS_KEY=wrong-secret", "AWS_REGION=us-east-1"}
	res := s.sub.fails("access denied", "subscribe", "origin", "main", "--once", "--exec", s.command("true"))
	if res.code != 1 {
		t.Fatalf("wrong credentials: exit %d, want 1", res.code)
	}
	s.sub.env = good
	s.sub.ok("remote", "add", "down", "s3://"+rs.bkt+"/team/ds", "--endpoint", "http://127.0.0.1:1", "--path-style")
	res = s.sub.fails("cannot reach endpoint", "subscribe", "down", "main", "--once", "--exec", s.command("true"))
	if res.code != 1 {
		t.Fatalf("unreachable endpoint: exit %d, want 1", res.code)
	}
	if got := s.lines("start"); len(got) != 0 {
		t.Fatalf("a command ran: %q", got)
	}
	cmd, stderr := s.startRemote("down", "--interval", "50ms", "--exec", s.command("true"))
	waitText(t, stderr, "cannot reach endpoint 127.0.0.1:1", 60*time.Second)
	waitText(t, stderr, "retrying in", 60*time.Second)
	stopSubscriber(t, cmd, stderr)
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if strings.Count(l, "dx:") > 1 {
			t.Fatalf("a report spans two messages: %q", l)
		}
	}
}

// TestSubscribePollOnMinIO: --poll lists events/ even where MinIO offers
// notifications, and a push is handled through it (refs read hourly).
func TestSubscribePollOnMinIO(t *testing.T) {
	srv := s3test.Start(t)
	s := newSubscription(t, s3Remote(t, srv))
	v1 := s.pub.head()
	cmd, stderr := s.start("--poll", "--interval", "100ms", "--refs-interval", "1h", "--exec", s.command("true"))
	s.waitFor("done", " "+v1, 1, 20*time.Second)
	v2 := s.publish()
	s.waitFor("done", v1+" "+v2, 1, 20*time.Second)
	stopSubscriber(t, cmd, stderr)
	if !strings.Contains(stderr.String(), "by polling events/ every 100ms") {
		t.Fatalf("start line: %s", stderr)
	}
}

// TestSubscribeFromHead: --from head starts a branch without a cursor at
// the remote's head: nothing runs on what is there, only on what comes.
func TestSubscribeFromHead(t *testing.T) {
	s := newSubscription(t, fileRemote(t))
	v1 := s.pub.head()
	s.sub.ok("subscribe", "origin", "main", "--once", "--from", "head", "--exec", s.command("true"))
	if got := s.lines("start"); len(got) != 0 {
		t.Fatalf("ran on what was there: %q", got)
	}
	v2 := s.publish()
	s.sub.ok("subscribe", "origin", "main", "--once", "--from", "head", "--exec", s.command("true"))
	if got := s.lines("done"); len(got) != 1 || got[0] != v1+" "+v2 {
		t.Fatalf("log %q, want one delta %s..%s", got, v1, v2)
	}
	s.sub.fails("want head or a full commit id", "subscribe", "origin", "main", "--once", "--from", "yesterday", "--exec", "true")
}

// TestSubscribeModelStage: --model NAME@STAGE runs the command once per
// move of the stage, with the version it is on checked out into
// DX_MODEL_DIR; on MinIO, through a notification (refs read hourly); a
// demotion runs it with no version.
func TestSubscribeModelStage(t *testing.T) {
	srv := s3test.Start(t)
	rs := s3Remote(t, srv)
	pub := rs.repo(t)
	pub.write("data/t.csv", "id,v\n1,a\n")
	pub.ok("commit", "-m", "data")
	art := filepath.Join(t.TempDir(), "model.bin")
	register := func(body string) {
		t.Helper()
		if err := os.WriteFile(art, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		pub.ok("model", "register", "churn", "--artifact", art, "--data", "HEAD:data")
	}
	register("weights v1")
	pub.ok("model", "promote", "churn@1", "production")
	pub.ok("push", "--all")
	edge := rs.clone(t)
	log := filepath.Join(t.TempDir(), "deployed.log")
	command := `echo "$DX_MODEL $DX_STAGE v$DX_MODEL_VERSION $([ -z "$DX_MODEL_DIR" ] || cat "$DX_MODEL_DIR"/*)" >> ` + log
	lines := func() []string {
		b, _ := os.ReadFile(log)
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	edge.ok("subscribe", "origin", "--model", "churn@production", "--once", "--exec", command)
	if got := lines(); len(got) != 1 || got[0] != "churn production v1 weights v1" {
		t.Fatalf("first run: %q", got)
	}
	edge.ok("subscribe", "origin", "--model", "churn@production", "--once", "--exec", command)
	if got := lines(); len(got) != 1 {
		t.Fatalf("ran again with the stage unmoved: %q", got)
	}

	cmd := exec.Command(dxBin, "subscribe", "origin", "--model", "churn@production", "--refs-interval", "1h", "--exec", command)
	cmd.Dir, cmd.Env = edge.dir, append(os.Environ(), edge.env...)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	waitText(t, stderr, "on bucket notifications", 30*time.Second)
	register("weights v2")
	pub.ok("model", "promote", "churn@2", "production")
	pub.ok("push", "--all")
	wait := func(n int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for len(lines()) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d runs, want %d: %q; stderr %s", len(lines()), n, lines(), stderr)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wait(2)
	pub.ok("model", "promote", "--remove", "churn", "production")
	pub.ok("push", "--all")
	wait(3)
	stopSubscriber(t, cmd, stderr)
	if got := lines(); got[1] != "churn production v2 weights v2" || strings.TrimSpace(got[2]) != "churn production v" {
		t.Fatalf("runs: %q", got)
	}
	if st := edge.ok("subscribe", "--status"); !strings.Contains(st, "model:churn@production") || !strings.Contains(st, "up to date") {
		t.Fatalf("status: %s", st)
	}
	edge.fails("a version never moves", "subscribe", "origin", "--model", "churn@2", "--once", "--exec", "true")
}
