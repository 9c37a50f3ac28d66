package tui

import (
	"bytes"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"
)

// clipboardTerminal records what the UI writes to the terminal for y.
type clipboardTerminal struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *clipboardTerminal) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

func (c *clipboardTerminal) take() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.buf.String()
	c.buf.Reset()
	return s
}

// TestCopyWritesOSC52: y writes the OSC 52 sequence with the commit's id
// from the list, and the dx cat command of the path from the details and
// the drill-down.
func TestCopyWritesOSC52(t *testing.T) {
	h := branchyHistory(t)
	term := &clipboardTerminal{}
	tm := startUI(t, h, Options{Clipboard: term})
	waitFor(t, tm, "M assets/logo.bin")
	head := "82b488643aa85760c9e5884f4066f864325d07f3f38eb960f1f918ded310bb3a"
	cat := "dx cat 82b488643aa8:assets/logo.bin"
	steps := []struct {
		keys []string
		text string
	}{
		{[]string{"y"}, head},
		{[]string{"tab", "y"}, cat},
		{[]string{"enter", "y"}, cat},
	}
	for _, s := range steps {
		press(tm, s.keys...)
		want := "\x1b]52;c;" + b64(s.text) + "\a"
		got := ""
		for deadline := time.Now().Add(waitLimit); got == "" && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
			got = term.take()
		}
		if got != want {
			t.Errorf("%v: wrote %q, want %q", s.keys, got, want)
		}
	}
	m, screen := quitScreen(t, tm)
	if !m.rows.open || !strings.Contains(screen, "copied: "+cat) {
		t.Errorf("the drill-down does not say what y copied:\n%s", screen)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"ab12:data/t.csv": "ab12:data/t.csv",
		"ab12:my file":    "'ab12:my file'",
		"ab12:it's":       `'ab12:it'\''s'`,
		"":                "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
