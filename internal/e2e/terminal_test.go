package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// onTerminal runs dx with args on a pseudo-terminal of script(1) whose
// other end is no terminal (nothing answers a query), stdin empty; it
// returns what dx wrote to the terminal.
func onTerminal(t *testing.T, r *repoDir, args ...string) string {
	t.Helper()
	script, err := exec.LookPath("script")
	if err != nil {
		t.Fatalf("script(1) (util-linux) is needed: %v", err)
	}
	line := dxBin
	for _, a := range args {
		line += " '" + a + "'"
	}
	cmd := exec.Command(script, "-qec", line, "/dev/null")
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "TERM=xterm-256color", "DX_AUTHOR=Test <test@example.com>")
	cmd.Stdin = strings.NewReader("")
	res := runProcess(t, cmd)
	if res.code != 0 {
		t.Fatalf("dx %v on a terminal: exit %d\n%s%s", args, res.code, res.stdout, res.stderr)
	}
	return res.stdout
}

// TestTerminalAtStart: a command on a terminal does not ask it anything
// (bubbletea's init would ask for its background colour: a round trip
// before each command, a 5 s wait where nothing answers); long reads of a
// table (a commit's check, dx profile, dx check) and dx fsck --full show
// a progress bar there, and nothing when piped.
func TestTerminalAtStart(t *testing.T) {
	r := newRepo(t)
	r.write(".dxattributes", "*.csv table=csv key=id\n")
	r.write("t.csv", amountsTable(1, 300_000))
	r.write("dx.contract.yaml", "tables:\n  - path: t.csv\n    columns:\n      - name: amount\n        type: decimal\n")
	r.ok("commit", "-m", "table")
	for _, args := range [][]string{{"status"}, {"log", "-n", "1"}} {
		if out := onTerminal(t, r, args...); strings.Contains(out, "\x1b]11;?") || strings.Contains(out, "\x1b[6n") {
			t.Errorf("dx %v asked the terminal: %q", args, out)
		}
	}
	// A new table with quotes is read again, whole, to be checked.
	var b strings.Builder
	b.WriteString("id,note\n")
	for i := range 100_000 {
		fmt.Fprintf(&b, "%d,\"a, b %d\"\n", i, i)
	}
	r.write("q.csv", b.String())
	if out := onTerminal(t, r, "commit", "-m", "quoted"); !strings.Contains(out, "checking q.csv") {
		t.Errorf("dx commit of a table read again: no bar in %q", out)
	}
	for _, c := range []struct {
		args []string
		bar  string
	}{
		{[]string{"profile", "HEAD:t.csv"}, "profiling t.csv"},
		{[]string{"check"}, "checking t.csv"},
		{[]string{"fsck", "--full"}, "verifying chunks"},
	} {
		if out := onTerminal(t, r, c.args...); !strings.Contains(out, c.bar) {
			t.Errorf("dx %v on a terminal: no %q bar in %q", c.args, c.bar, out)
		}
		if res := r.run(c.args...); strings.Contains(res.stderr+res.stdout, c.bar) {
			t.Errorf("dx %v piped: a bar", c.args)
		}
	}
}
