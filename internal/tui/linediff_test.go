package tui

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestUnifiedDiff(t *testing.T) {
	cases := []struct {
		name, old, new string
		want           []string
	}{
		{"same", "a\nb\n", "a\nb\n", nil},
		{"append_and_change", "alpha\nbeta\ngamma\ndelta\n", "alpha\nBETA\ngamma\ndelta\nepsilon\n", []string{
			"--- a", "+++ b", "@@ -1,4 +1,5 @@", " alpha", "-beta", "+BETA", " gamma", " delta", "+epsilon"}},
		{"added_file", "", "x\ny\n", []string{"--- a", "+++ b", "@@ -0,0 +1,2 @@", "+x", "+y"}},
		{"removed_file", "x\n", "", []string{"--- a", "+++ b", "@@ -1 +0,0 @@", "-x"}},
		{"newline_at_end", "x\ny", "x\ny\n", []string{"--- a", "+++ b", "@@ -1,2 +1,2 @@", " x", "-y", `\ No newline at end of file`, "+y"}},
		{"two_hunks", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "1\nTWO\n3\n4\n5\n6\n7\n8\n9\n10\nELEVEN\n12\n", []string{
			"--- a", "+++ b", "@@ -1,5 +1,5 @@", " 1", "-2", "+TWO", " 3", " 4", " 5",
			"@@ -8,5 +8,5 @@", " 8", " 9", " 10", "-11", "+ELEVEN", " 12"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := unified("a", "b", diffLines(splitLines(c.old), splitLines(c.new)), 3)
			if !slices.Equal(got, c.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// TestDiffLinesRebuildsBothSides: on random texts, the kept and removed
// lines are the old text and the kept and added lines the new one, and
// a small change gives a small script, also past maxEdits of other text.
func TestDiffLinesRebuildsBothSides(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	text := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = string(rune('a' + rng.IntN(4)))
		}
		return out
	}
	for i := range 300 {
		a, b := text(rng.IntN(40)), text(rng.IntN(40))
		if i == 0 {
			a, b = text(3000), text(3000) // more than maxEdits edits: removed, then added
		}
		var gotA, gotB []string
		for _, op := range diffLines(a, b) {
			if op.kind != '+' {
				gotA = append(gotA, op.text)
			}
			if op.kind != '-' {
				gotB = append(gotB, op.text)
			}
		}
		if !slices.Equal(gotA, a) || !slices.Equal(gotB, b) {
			t.Fatalf("%q -> %q: script rebuilds %q and %q", a, b, gotA, gotB)
		}
	}
	big := text(5000)
	changed := slices.Clone(big)
	changed[2500] = "CHANGED"
	edits := 0
	for _, op := range diffLines(big, changed) {
		if op.kind != ' ' {
			edits++
		}
	}
	if edits != 2 {
		t.Errorf("one changed line of 5000: %d edits, want 2", edits)
	}
}
