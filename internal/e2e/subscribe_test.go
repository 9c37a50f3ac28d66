package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// subscription is a publisher pushing versions of a table to a remote and
// a subscriber following its main branch, with a command that logs each
// delta it is handed ("OLD NEW" per line) and keeps a copy of its rows.
type subscription struct {
	t        *testing.T
	pub, sub *repoDir
	log      string // the command's log
	deltas   string // the command's copies of the deltas, by DX_NEW
	version  int
}

func newSubscription(t *testing.T, rs remoteSetup) *subscription {
	t.Helper()
	s := &subscription{t: t, pub: rs.repo(t)}
	s.pub.write(".dxattributes", "*.csv table=csv key=id\n")
	s.publish()
	s.sub = rs.clone(t)
	s.log = filepath.Join(t.TempDir(), "handled.log")
	s.deltas = t.TempDir()
	return s
}

// publish commits and pushes the table's next version and returns its
// commit id.
func (s *subscription) publish() string {
	s.t.Helper()
	s.version++
	var b strings.Builder
	b.WriteString("id,v\n")
	for id := 1; id <= 100+s.version; id++ {
		v := fmt.Sprintf("r%d", id)
		if id%10 == s.version%10 {
			v += fmt.Sprintf("-v%d", s.version)
		}
		fmt.Fprintf(&b, "%d,%s\n", id, v)
	}
	s.pub.write("t.csv", b.String())
	s.pub.ok("commit", "-m", fmt.Sprintf("v%d", s.version))
	s.pub.ok("push")
	return s.pub.head()
}

// command logs "OLD NEW", keeps the delta's rows, then runs extra.
func (s *subscription) command(extra string) string {
	return fmt.Sprintf(`echo "start $DX_REMOTE $DX_BRANCH $DX_OLD $DX_NEW" >> %[1]s && cp "$DX_DELTA/rows/t.csv.jsonl" %[2]s/"$DX_NEW".jsonl && %[3]s && echo "done $DX_OLD $DX_NEW" >> %[1]s`,
		s.log, s.deltas, extra)
}

// lines returns the command's log lines that start with prefix ("start"
// or "done"), without it.
func (s *subscription) lines(prefix string) []string {
	s.t.Helper()
	b, err := os.ReadFile(s.log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		s.t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if rest, ok := strings.CutPrefix(l, prefix+" "); ok {
			out = append(out, rest)
		}
	}
	return out
}

// head is the id of the worktree's HEAD commit.
func (r *repoDir) head() string {
	r.t.Helper()
	out := r.ok("log", "-n", "1", "--json")
	i := strings.Index(out, `"id": "`)
	if i < 0 {
		r.t.Fatalf("log --json: no id in %s", out)
	}
	return out[i+7 : i+7+64]
}

// TestSubscribeTwoPushesOneDelta: two pushes landing before the subscriber
// wakes are one delta, from the last handled commit to the newest head,
// whose rows are the row diff between the two; on a directory remote and
// on MinIO.
func TestSubscribeTwoPushesOneDelta(t *testing.T) {
	bothRemotes(t, func(t *testing.T, rs remoteSetup) {
		s := newSubscription(t, rs)
		v1 := s.pub.head()
		// No cursor yet: the first delta runs from nothing to v1.
		s.sub.ok("subscribe", "origin", "main", "--once", "--into", "follow", "--exec", s.command("true"))
		if got := s.lines("done"); len(got) != 1 || got[0] != " "+v1 {
			t.Fatalf("first run: log %q, want one delta from nothing to %s", got, v1)
		}
		s.publish()
		v3 := s.publish()
		s.sub.ok("subscribe", "origin", "main", "--once", "--into", "follow", "--exec", s.command("true"))
		done := s.lines("done")
		if len(done) != 2 || done[1] != v1+" "+v3 {
			t.Fatalf("log %q, want a second delta %s..%s", done, v1, v3)
		}
		if got := s.lines("start"); got[1] != "origin main "+v1+" "+v3 {
			t.Fatalf("DX_REMOTE, DX_BRANCH, DX_OLD, DX_NEW: %q", got[1])
		}
		rows, err := os.ReadFile(filepath.Join(s.deltas, v3+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		want := s.sub.ok("diff", "--rows", "--format", "jsonl", v1, v3)
		if string(rows) != want || want == "" {
			t.Fatalf("delta rows:\n%s\nwant dx diff --rows:\n%s", rows, want)
		}
		// The local branches moved: the remote-tracking ref and --into's.
		for _, ref := range []string{"refs/remotes/origin/main", "follow"} {
			if out := s.sub.ok("log", "-n", "1", "--oneline", ref); !strings.Contains(out, "v3") {
				t.Fatalf("%s: %s, want v3", ref, out)
			}
		}
		// Nothing new: nothing runs.
		s.sub.ok("subscribe", "origin", "main", "--once", "--exec", s.command("true"))
		if got := s.lines("start"); len(got) != 2 {
			t.Fatalf("ran again with nothing new: %q", got)
		}
		if st := s.sub.ok("subscribe", "--status"); !strings.Contains(st, "up to date") || !strings.Contains(st, v3[:12]) {
			t.Fatalf("status: %s", st)
		}
	})
}

// TestSubscribeFailingCommand: a failing command leaves the cursor where it
// was and says so; the next run hands it the same delta; a long-running
// subscriber retries it with back-off and exits 0 on SIGTERM.
func TestSubscribeFailingCommand(t *testing.T) {
	s := newSubscription(t, fileRemote(t))
	v1 := s.pub.head()
	s.sub.ok("subscribe", "origin", "main", "--once", "--exec", s.command("true"))
	v2 := s.publish()
	res := s.sub.fails("command failed", "subscribe", "origin", "main", "--once", "--exec", s.command("exit 3"))
	if res.code != 1 {
		t.Fatalf("exit %d, want 1", res.code)
	}
	st := s.sub.ok("subscribe", "--status", "--json")
	for _, want := range []string{`"cursor": "` + v1, `"head": "` + v2, `"pending": true`, `exit status 3`, `"pending_commits": [`, `"id": "` + v2} {
		if !strings.Contains(st, want) {
			t.Fatalf("status lacks %s:\n%s", want, st)
		}
	}
	// A subscriber that keeps running retries until the command succeeds
	// (here: on its second attempt).
	marker := filepath.Join(t.TempDir(), "failed-once")
	cmd, stderr := s.start("--interval", "50ms", "--exec", s.command(fmt.Sprintf("if [ ! -e %[1]s ]; then touch %[1]s; exit 4; fi", marker)))
	s.waitFor("done", v1+" "+v2, 1, 20*time.Second)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v (want exit 0); stderr: %s", err, stderr)
	}
	if !strings.Contains(stderr.String(), "command failed: exit status 4 (attempt 2; retrying in") {
		t.Fatalf("failures not reported with their retry: %s", stderr)
	}
	if got := s.lines("start"); len(got) != 4 { // v1; v2 failing, failing, then succeeding
		t.Fatalf("runs: %q", got)
	}
}

// start runs a long-lived subscriber on main with args.
func (s *subscription) start(args ...string) (*exec.Cmd, *lockedBuffer) {
	s.t.Helper()
	return s.startRemote("origin", args...)
}

// startRemote runs a long-lived subscriber on main of remote with args.
func (s *subscription) startRemote(remote string, args ...string) (*exec.Cmd, *lockedBuffer) {
	s.t.Helper()
	cmd := exec.Command(dxBin, append([]string{"subscribe", remote, "main"}, args...)...)
	cmd.Dir = s.sub.dir
	cmd.Env = append(os.Environ(), s.sub.env...)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, stderr
}

// lockedBuffer is a running subscriber's stderr, read while it writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor waits until the command's log has n lines "prefix … rest".
func (s *subscription) waitFor(prefix, rest string, n int, limit time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if s.count(prefix, rest) >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("not %d %q lines ending %q in the log after %s: %q", n, prefix, rest, limit, s.lines("start"))
}

// waitText waits until the buffer (a subscriber's stderr) holds text.
func waitText(t *testing.T, b *lockedBuffer, text string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !strings.Contains(b.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q after %s in %q", text, limit, b.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitCursor waits until the subscriber's cursor on main is head.
func (s *subscription) waitCursor(head string, limit time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if strings.Contains(s.sub.ok("subscribe", "--status", "--json"), `"cursor": "`+head) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("the cursor did not reach %s after %s", head, limit)
}

// count is how many of the log's prefix lines end with rest.
func (s *subscription) count(prefix, rest string) int {
	n := 0
	for _, l := range s.lines(prefix) {
		if strings.HasSuffix(l, rest) {
			n++
		}
	}
	return n
}

// TestSubscribeForcePush: a head that does not descend from the cursor
// stops the branch with exit 5 and one line, runs nothing, and
// --accept-rewrites follows it.
func TestSubscribeForcePush(t *testing.T) {
	rs := fileRemote(t)
	s := newSubscription(t, rs)
	other := rs.clone(t)
	s.publish()
	s.sub.ok("subscribe", "origin", "main", "--once", "--exec", s.command("true"))
	v2 := s.pub.head()
	other.write("other.txt", "rewritten\n")
	other.ok("commit", "-m", "rewrite")
	other.ok("push", "--force")
	rewritten := other.head()
	res := s.sub.fails("subscribe origin main: rewritten on the remote", "subscribe", "origin", "main", "--once", "--exec", s.command("true"))
	if res.code != exitNotFastForward {
		t.Fatalf("exit %d, want %d", res.code, exitNotFastForward)
	}
	if got := s.lines("start"); len(got) != 1 {
		t.Fatalf("ran on a rewritten branch: %q", got)
	}
	s.sub.ok("subscribe", "origin", "main", "--once", "--accept-rewrites", "--exec", s.command("true"))
	if got := s.lines("done"); got[len(got)-1] != v2+" "+rewritten {
		t.Fatalf("--accept-rewrites: %q, want %s..%s", got, v2, rewritten)
	}
}

// TestSubscribeMissingEvent: the subscriber reads refs, not events: a ref
// moved without its event (a pusher killed between the two) is seen.
func TestSubscribeMissingEvent(t *testing.T) {
	rs := fileRemote(t)
	s := newSubscription(t, rs)
	s.sub.ok("subscribe", "origin", "main", "--once", "--exec", s.command("true"))
	v1 := s.pub.head()
	v2 := s.publish()
	if err := os.RemoveAll(filepath.Join(rs.dir, "events")); err != nil {
		t.Fatal(err)
	}
	s.sub.ok("subscribe", "origin", "main", "--once", "--exec", s.command("true"))
	if got := s.lines("done"); got[len(got)-1] != v1+" "+v2 {
		t.Fatalf("log %q, want %s..%s", got, v1, v2)
	}
}

// TestSubscribeKilled: a subscriber killed (SIGKILL) at random moments,
// 20 times, while pushes land, loses nothing and runs nothing twice: the
// command a killed subscriber started runs on (in a runner of its own)
// and the restarted subscriber takes its exit status. Checked against the
// command's log: one start and one done per handled head, each delta
// starting where the previous ended, the last at the newest head.
func TestSubscribeKilled(t *testing.T) {
	s := newSubscription(t, fileRemote(t))
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	t.Logf("seed %d", seed)
	command := s.command("sleep 0.2")
	for round := 0; round < 20; round++ {
		cmd, _ := s.start("--interval", "50ms", "--exec", command)
		if round%2 == 0 {
			s.publish() // lands while it runs
		}
		time.Sleep(time.Duration(rng.Intn(400)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		if round%3 == 0 {
			s.publish() // lands while it is down
		}
	}
	last := s.pub.head()
	cmd, stderr := s.start("--interval", "50ms", "--exec", command)
	s.waitFor("done", " "+last, 1, 30*time.Second)
	s.waitCursor(last, 30*time.Second)
	waitText(t, stderr, "following main", 30*time.Second) // up, its signal handlers set
	stopSubscriber(t, cmd, stderr)

	starts, dones := s.lines("start"), s.lines("done")
	if len(starts) != len(dones) {
		t.Fatalf("%d starts, %d dones: a command was cut short\nstarts %q\ndones %q", len(starts), len(dones), starts, dones)
	}
	seen := map[string]bool{}
	prev := ""
	for _, l := range dones {
		old, head, _ := strings.Cut(l, " ")
		if seen[head] {
			t.Fatalf("head %s handled twice (log %q)", head, dones)
		}
		seen[head] = true
		if old != prev {
			t.Fatalf("gap: a delta from %q after one ending at %q (log %q)", old, prev, dones)
		}
		prev = head
	}
	if prev != last {
		t.Fatalf("last handled %s, want %s", prev, last)
	}
}

// TestSubscribeSignalFinishesStep: SIGTERM while the command runs lets it
// finish and the cursor move, then dx exits 0; meanwhile a second
// subscriber of the remote is refused.
func TestSubscribeSignalFinishesStep(t *testing.T) {
	s := newSubscription(t, fileRemote(t))
	head := s.pub.head()
	cmd, stderr := s.start("--exec", s.command("sleep 1"))
	s.waitFor("start", head, 1, 20*time.Second)
	// A second subscriber of the same remote stops at once.
	if res := s.sub.fails("another dx subscribe follows origin", "subscribe", "origin", "main", "--once", "--exec", "true"); res.code != exitLocked {
		t.Fatalf("second subscriber: exit %d, want %d", res.code, exitLocked)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v (want exit 0); stderr: %s", err, stderr)
	}
	if s.count("done", head) != 1 {
		t.Fatalf("the command was cut short: %q", s.lines("done"))
	}
	if st := s.sub.ok("subscribe", "--status"); !strings.Contains(st, "cursor "+head[:12]) {
		t.Fatalf("the cursor did not move: %s", st)
	}
}

// TestSubscribeIntoCheckedOutBranch: --into the branch the worktree has
// checked out moves its files too when the worktree is clean; with local
// changes it moves nothing, runs nothing and exits 3.
func TestSubscribeIntoCheckedOutBranch(t *testing.T) {
	s := newSubscription(t, fileRemote(t))
	v2 := s.publish() // the clone's main is behind
	s.sub.ok("subscribe", "origin", "main", "--once", "--into", "main", "--exec", s.command("true"))
	if got := s.sub.head(); got != v2 {
		t.Fatalf("HEAD %s, want %s", got, v2)
	}
	want := s.pub.ok("cat", "HEAD:t.csv")
	if got, err := os.ReadFile(filepath.Join(s.sub.dir, "t.csv")); err != nil || string(got) != want {
		t.Fatalf("the worktree's t.csv was not updated (%v)", err)
	}
	if st := s.sub.ok("status", "--json"); strings.Contains(st, "t.csv") {
		t.Fatalf("status after the update: %s", st)
	}

	// A worktree with changes is left alone: nothing moves, nothing runs,
	// exit 3 as for a merge.
	s.sub.write("t.csv", "id,v\n1,mine\n")
	s.publish()
	res := s.sub.fails("the worktree has changes (t.csv)", "subscribe", "origin", "main", "--once", "--into", "main", "--exec", s.command("true"))
	if res.code != 3 {
		t.Fatalf("exit %d, want 3", res.code)
	}
	if got := s.sub.head(); got != v2 {
		t.Fatalf("HEAD moved to %s with local changes", got)
	}
	if got, _ := os.ReadFile(filepath.Join(s.sub.dir, "t.csv")); string(got) != "id,v\n1,mine\n" {
		t.Fatalf("local change lost: %q", got)
	}
	if got := s.lines("start"); len(got) != 1 {
		t.Fatalf("runs %q, want only the first", got)
	}
}

// TestSubscribeQuickPushes: pushes in quick succession, some landing while
// the command runs, give deltas in order (one per head or one covering
// several) that lose no row: applied one after the other to nothing, they
// make the table of the newest head, row for row.
func TestSubscribeQuickPushes(t *testing.T) {
	s := newSubscription(t, fileRemote(t))
	cmd, stderr := s.start("--interval", "50ms", "--exec", s.command("sleep 0.3"))
	for i := 0; i < 6; i++ {
		s.publish()
	}
	last := s.pub.head()
	s.waitCursor(last, 30*time.Second)
	stopSubscriber(t, cmd, stderr)

	table := map[string]string{} // key → the row as JSON
	prev := ""
	for _, l := range s.lines("done") {
		old, head, _ := strings.Cut(l, " ")
		if old != prev {
			t.Fatalf("gap: a delta from %q after one ending at %q", old, prev)
		}
		prev = head
		b, err := os.ReadFile(filepath.Join(s.deltas, head+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var c struct {
				Change string            `json:"change"`
				Key    []string          `json:"key"`
				New    map[string]string `json:"new"`
			}
			if err := json.Unmarshal([]byte(line), &c); err != nil {
				t.Fatalf("delta line %q: %v", line, err)
			}
			k := strings.Join(c.Key, ",")
			if c.Change == "removed" {
				delete(table, k)
				continue
			}
			row, _ := json.Marshal(c.New)
			table[k] = string(row)
		}
	}
	t.Logf("%d pushes, %d deltas", s.version, len(s.lines("done")))
	want := map[string]string{}
	csv := strings.Split(strings.TrimSpace(s.sub.ok("cat", last+":t.csv")), "\n")
	for _, line := range csv[1:] {
		id, v, _ := strings.Cut(line, ",")
		row, _ := json.Marshal(map[string]string{"id": id, "v": v})
		want[id] = string(row)
	}
	if len(table) != len(want) {
		t.Fatalf("the deltas make %d rows, the newest head has %d", len(table), len(want))
	}
	for k, row := range want {
		if table[k] != row {
			t.Fatalf("row %s: the deltas make %s, the newest head has %s", k, table[k], row)
		}
	}
}
