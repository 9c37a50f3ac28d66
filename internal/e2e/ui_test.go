package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestUIRefusesWithoutTerminal: dx ui and dx log --tui need a terminal on
// stdout, and say so in one line with exit 2.
func TestUIRefusesWithoutTerminal(t *testing.T) {
	r := newRepo(t)
	r.write("a.txt", "a\n")
	r.ok("commit", "-m", "first")
	for _, args := range [][]string{{"ui"}, {"log", "--tui"}} {
		res := r.fails("ui needs a terminal", args...)
		if res.code != 2 {
			t.Errorf("dx %s: exit %d, want 2", strings.Join(args, " "), res.code)
		}
	}
}

// tmuxPane is a dx command running in an 80×24 pane of a tmux server of
// its own (its socket in a temporary directory, so that a user's tmux is
// never touched).
type tmuxPane struct {
	t      *testing.T
	socket string
}

// startTmux runs command in a new 80×24 tmux session. make test requires
// tmux (DX_REQUIRE_TMUX=1); elsewhere the test skips without it.
func startTmux(t *testing.T, dir, command string) *tmuxPane {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("DX_REQUIRE_TMUX") == "1" {
			t.Fatalf("tmux is required (DX_REQUIRE_TMUX=1): %v", err)
		}
		t.Skipf("tmux is not installed: %v", err)
	}
	p := &tmuxPane{t: t, socket: filepath.Join(t.TempDir(), "tmux.sock")}
	p.tmux("-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "24", "-c", dir, command)
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", p.socket, "kill-server").Run() })
	return p
}

func (p *tmuxPane) tmux(args ...string) string {
	p.t.Helper()
	cmd := exec.Command("tmux", append([]string{"-S", p.socket}, args...)...)
	cmd.Env = paneEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// paneEnv is the test's environment without the variables that turn a
// terminal's colours off (CI runners set CI, which termenv reads as "no
// terminal"): the tmux server started by the first command hands it to
// the pane.
func paneEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "CI", "NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// keys types keys into the pane, as tmux send-keys names them.
func (p *tmuxPane) keys(keys ...string) {
	p.t.Helper()
	p.tmux(append([]string{"send-keys"}, keys...)...)
}

// paneWait bounds a wait for the pane to show something: a safety net for
// a UI that never gets there, far beyond what a loaded machine needs to
// draw it.
const paneWait = 2 * time.Minute

// waitFor polls the pane until it shows every one of wants, and returns it.
func (p *tmuxPane) waitFor(wants ...string) string {
	p.t.Helper()
	deadline := time.Now().Add(paneWait)
	for {
		screen := p.tmux("capture-pane", "-p")
		missing := ""
		for _, w := range wants {
			if !strings.Contains(screen, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return screen
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("the pane never showed %q; it shows:\n%s", missing, screen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestUIInTerminal drives dx ui in a real terminal: the list and the
// selected commit's details, a commit made meanwhile from outside, moving
// with j and G, help, a resize, and q leaving the terminal as it was.
func TestUIInTerminal(t *testing.T) {
	r := newRepo(t)
	r.env = []string{"TZ=UTC", "DX_DATE=2026-01-02T03:04:05Z"}
	r.write("data/customers.csv", "id,name\n1,Ada\n")
	r.ok("commit", "-m", "Import customers")
	r.write("notes.txt", "notes\n")
	r.ok("commit", "-m", "Add notes")
	r.ok("tag", "v1")
	r.write("data/customers.csv", "id,name\n1,Ada\n2,Bob\n")
	r.ok("commit", "-m", "One more customer")

	command := "env TZ=UTC " + dxBin + " ui; echo dx-exited-$?; sleep 600"
	p := startTmux(t, r.dir, command)
	p.waitFor("(HEAD -> main) One more customer", "(tag: v1) Add notes", "Import customers",
		"M data/customers.csv", "1/3", "q quit")
	// The UI keeps the repository open only while it reads: a commit from
	// another terminal goes through, and the UI reads on after it. A UI
	// that kept its lock would make the commit wait out dx's lock timeout
	// and fail; the bound, well below that timeout and far above what a
	// loaded machine takes, catches one that lets go only late.
	r.write("late.txt", "late\n")
	start := time.Now()
	r.ok("commit", "-m", "Made while the UI is open")
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("a commit while dx ui is open took %v: it waited for the UI's lock", d)
	}
	p.keys("j")
	p.waitFor("2/3", "A notes.txt")
	p.keys("G")
	p.waitFor("3/3", "A data/customers.csv")
	p.keys("?")
	p.waitFor("Keys", "closes this help")
	p.keys("?")
	p.waitFor("3/3")
	p.tmux("resize-window", "-x", "100", "-y", "30")
	title := "── HEAD ── 3/3 ── focus: list (Tab) "
	screen := p.waitFor(title + strings.Repeat("─", 100-utf8.RuneCountInString(title))) // drawn across the new width
	if lines := strings.Split(strings.TrimRight(screen, "\n"), "\n"); len(lines) != 30 || !strings.Contains(lines[29], "q quit") {
		t.Errorf("after the resize to 100x30, %d lines, the last %q", len(lines), lines[len(lines)-1])
	}
	p.keys("q")
	screen = p.waitFor("dx-exited-0")
	if strings.Contains(screen, "One more customer") {
		t.Errorf("the UI is still on the screen after q:\n%s", screen)
	}
}

// colourCode is an SGR sequence that sets a foreground colour.
var colourCode = regexp.MustCompile(`\x1b\[(3[0-7]|38;)`)

// TestUIColours: dx log --tui draws in colour on a terminal, and without
// any under NO_COLOR.
func TestUIColours(t *testing.T) {
	r := newRepo(t)
	r.write("a.txt", "a\n")
	r.ok("commit", "-m", "First commit")
	for _, c := range []struct {
		name, env string
		coloured  bool
	}{
		{"colours", "", true},
		{"NO_COLOR", "NO_COLOR=1", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := startTmux(t, r.dir, "env "+c.env+" "+dxBin+" log --tui; echo dx-exited-$?; sleep 600")
			p.waitFor("First commit", "A a.txt")
			screen := p.tmux("capture-pane", "-p", "-e") // with the escape sequences
			if got := colourCode.MatchString(screen); got != c.coloured {
				t.Errorf("coloured %v, want %v:\n%q", got, c.coloured, screen)
			}
			p.keys("q")
			p.waitFor("dx-exited-0")
		})
	}
}

// TestUIRefsSearchModelsInTerminal drives the rest of dx ui in a real
// terminal over a merged branch, a tag, a remote branch and two model
// versions: the graph and markers, a search by changed path, the branch
// picker and all refs, the models view and its jump, lineage, a text
// diff, and y copying through OSC 52 into tmux's clipboard.
func TestUIRefsSearchModelsInTerminal(t *testing.T) {
	r := newRepo(t)
	r.env = []string{"TZ=UTC", "DX_DATE=2026-01-02T03:04:05Z"}
	r.write("notes.txt", "alpha\nbeta\ngamma\n")
	r.write("assets/logo.bin", "PNG\x00\x01\x02")
	r.ok("commit", "-m", "Import data")
	first := headID(t, r)
	r.ok("remote", "add", "origin", "file://"+t.TempDir())
	r.ok("push")
	art := filepath.Join(t.TempDir(), "model.bin")
	writeBytes(t, art, []byte("weights v1"))
	r.ok("model", "register", "churn", "--artifact", art, "--data", "HEAD", "--metric", "auc=0.81")
	r.ok("branch", "feature")
	r.write("notes.txt", "alpha\nBETA\ngamma\n")
	r.ok("commit", "-m", "Rewrite the notes")
	r.ok("checkout", "feature")
	r.write("assets/logo.bin", "PNG\x00\x09\x08\x07")
	r.ok("commit", "-m", "Swap the logo")
	r.ok("checkout", "main")
	r.ok("merge", "feature")
	r.ok("tag", "v2")
	writeBytes(t, art, []byte("weights v2"))
	r.ok("model", "register", "churn", "--artifact", art, "--data", "HEAD", "--metric", "auc=0.86")

	p := startTmux(t, r.dir, "env TZ=UTC "+dxBin+" ui; echo dx-exited-$?; sleep 600")
	p.tmux("set-option", "-g", "set-clipboard", "on")
	p.waitFor("> *\\  ", "(HEAD -> main, tag: v2) [model: chur", "Models:  churn@2 (trained on it)",
		"(origin/main) [model: churn@1]", "1/4")

	// A changed path that is in no message finds the commit that changed it.
	p.keys("/", "notes.txt", "Enter")
	p.waitFor("2/4", "M notes.txt", `"notes.txt": n next, N previous`)
	p.keys("/", "nowhere", "Enter")
	p.waitFor(`no match for "nowhere" after this commit`)

	// Its text diff.
	p.keys("Tab", "Enter")
	p.waitFor("notes.txt +1 -1 lines", "-beta", "+BETA")
	p.keys("Escape") // alone: Esc and the next key together read as Alt+key
	p.waitFor("focus: detail")
	p.keys("Tab")

	// The branch picker, a branch's history, then all refs.
	p.keys("b")
	p.waitFor("branch   feature", "branch * main", "tag      v2", "remote   origin/main")
	p.keys("Enter")
	p.waitFor("── feature ── 1/2 ──", "Swap the logo")
	p.keys("a")
	p.waitFor("── all refs ── 1/4 ──")

	// The models view jumps to a version's data commit; l lists the
	// versions trained on data containing the selected commit.
	p.keys("m")
	p.waitFor("churn@2", "churn@1", "auc=0.81")
	p.keys("j", "Enter")
	p.waitFor("4/4", "A notes.txt")
	p.keys("l")
	p.waitFor("trained on data containing", "churn@2", "churn@1")
	p.keys("Escape")
	p.waitFor("── all refs ── 4/4 ──")

	// y puts the commit's id on the clipboard with OSC 52.
	p.keys("y")
	p.waitFor("copied: ")
	deadline := time.Now().Add(paneWait)
	for {
		out, _ := exec.Command("tmux", "-S", p.socket, "show-buffer").CombinedOutput()
		if strings.TrimSpace(string(out)) == first {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tmux's clipboard holds %q, want the commit id %s", out, first)
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.keys("q")
	p.waitFor("dx-exited-0")
}

// TestUIRowDiffInTerminal: in a real terminal, Enter on a changed table
// streams its row diff in (the count is complete once it no longer ends
// in +), G goes to its last row, read back from the store, and Esc goes
// back to the commit.
func TestUIRowDiffInTerminal(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	var v1, v2 strings.Builder
	v1.WriteString("id,name,score\n")
	v2.WriteString("id,name,score\n")
	const rows = 60000
	for i := range rows {
		fmt.Fprintf(&v1, "%d,user%d,%d\n", i, i, i%100)
		score := i % 100
		if i%3 == 0 {
			score += 1000 // a third of the rows change
		}
		fmt.Fprintf(&v2, "%d,user%d,%d\n", i, i, score)
	}
	r.write("t.csv", v1.String())
	r.ok("commit", "-m", "v1")
	r.write("t.csv", v2.String())
	r.ok("commit", "-m", "v2")

	p := startTmux(t, r.dir, "env TZ=UTC "+dxBin+" ui; echo dx-exited-$?; sleep 600")
	p.waitFor("(HEAD -> main) v2", "M t.csv")
	p.keys("Tab")
	p.waitFor(">M t.csv")
	p.keys("Enter")
	p.waitFor("── t.csv +0 -0 ~20000 rows 1-21/20000 ", "~ 0: 0,user0,[0 → 1000]")
	p.keys("G")
	p.waitFor("rows 19980-20000/20000 ", "~ 59997: 59997,user59997,[97 → 1097]")
	p.keys("Escape")
	p.waitFor("focus: detail")
	p.keys("q")
	p.waitFor("dx-exited-0")
}
