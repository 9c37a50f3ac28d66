package tui

import (
	"slices"
	"strings"
	"testing"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
)

func TestGraphCells(t *testing.T) {
	id := func(n byte) dag.ID { return dag.ID{n} }
	entry := func(n byte, parents ...byte) repo.LogEntry {
		e := repo.LogEntry{ID: id(n)}
		for _, p := range parents {
			e.Parents = append(e.Parents, id(p))
		}
		return e
	}
	cases := []struct {
		name    string
		entries []repo.LogEntry
		want    []string
	}{
		{"linear", []repo.LogEntry{entry(3, 2), entry(2, 1), entry(1)}, []string{"* ", "* ", "* "}},
		// merge 5 of 4 and 3, both on 2; then 1 below on a second root line.
		{"merge", []repo.LogEntry{entry(5, 4, 3), entry(3, 2), entry(4, 2), entry(2, 1), entry(1)},
			[]string{"*\\  ", "| * ", "* | ", "*   ", "*   "}},
		// two branch tips shown together (all refs), meeting at 1.
		{"two_tips", []repo.LogEntry{entry(3, 1), entry(2, 1), entry(1)}, []string{"*   ", "| * ", "*   "}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var g graph
			g.add(c.entries[:2]) // laid out across two pages
			g.add(c.entries[2:])
			if got := g.column(0, len(c.entries)); !slices.Equal(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
	t.Run("wide", func(t *testing.T) {
		var g graph
		g.add([]repo.LogEntry{entry(9, 1, 2, 3, 4, 5, 6, 7, 8), entry(1)})
		if cell := g.column(1, 2)[0]; cell != "* | | | | | … " {
			t.Errorf("a line among eight: %q, want six lanes and …", cell)
		}
		if w := len([]rune(strings.TrimRight(g.column(0, 2)[0], " "))); w > 2*maxLanes+2 {
			t.Errorf("graph cell of width %d", w)
		}
	})
}
