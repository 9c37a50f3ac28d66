package e2e

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestPathQuoting: paths with a newline, a tab or a double quote are
// printed C-quoted, as git does, wherever a listing is for people, so that
// one path is one line; -z lists them raw, each ended by a NUL byte; JSON
// holds them as they are. Printable UTF-8 stays readable.
func TestPathQuoting(t *testing.T) {
	r := newRepo(t)
	r.write("keep.txt", "keep\n")
	r.ok("commit", "-m", "keep")
	for _, p := range []string{"a\nb.txt", "c\td.txt", `say "hi".txt`, "naïve.txt"} {
		r.write(p, p)
	}
	quoted := []string{`"a\nb.txt"`, `"c\td.txt"`, `naïve.txt`, `"say \"hi\".txt"`}
	raw := []string{"a\nb.txt", "c\td.txt", "naïve.txt", `say "hi".txt`}
	lines := func(prefix string) string {
		var b strings.Builder
		for _, q := range quoted {
			b.WriteString(prefix + q + "\n")
		}
		return b.String()
	}
	nulEnded := func(prefix string) string {
		var b strings.Builder
		for _, p := range raw {
			b.WriteString(prefix + p + "\x00")
		}
		return b.String()
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"status", "--short"}, lines("A ")},
		{[]string{"status", "-z"}, nulEnded("A ")},
		{[]string{"diff", "--name-only"}, lines("")},
		{[]string{"diff", "--name-only", "-z"}, nulEnded("")},
		{[]string{"diff"}, lines("A ")},
	} {
		if got := r.ok(c.args...); got != c.want {
			t.Errorf("dx %s:\n got %q\nwant %q", strings.Join(c.args, " "), got, c.want)
		}
	}
	if got := r.ok("status"); !strings.Contains(got, "added:    \"a\\nb.txt\"\n") {
		t.Errorf("dx status: %q", got)
	}
	var st struct {
		Changes []struct {
			Path string `json:"path"`
		} `json:"changes"`
	}
	if err := json.Unmarshal([]byte(r.ok("status", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Changes) != len(raw) || st.Changes[0].Path != raw[0] {
		t.Errorf("status --json: %+v", st.Changes)
	}

	r.ok("commit", "-m", "odd names")
	if got := r.ok("show"); !strings.Contains(got, ` A "a\nb.txt"`) || strings.Contains(got, "a\nb") {
		t.Errorf("dx show: %q", got)
	}
	// A rename quotes both sides; -z gives the new path, then the old.
	if err := os.Rename(r.path("a\nb.txt"), r.path("e\nf.txt")); err != nil {
		t.Fatal(err)
	}
	if got, want := r.ok("status", "--short"), "R \"a\\nb.txt\" -> \"e\\nf.txt\"\n"; got != want {
		t.Errorf("status --short after a rename: %q, want %q", got, want)
	}
	if got, want := r.ok("status", "-z"), "R e\nf.txt\x00a\nb.txt\x00"; got != want {
		t.Errorf("status -z after a rename: %q, want %q", got, want)
	}
	r.fails("-z needs --name-only", "diff", "-z")
}
