package tui

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
)

// maxLanes is how many lines of descent the graph column draws; more are
// summed up as "…", so that a wide history leaves room for the subjects.
const maxLanes = 6

// graph is the branch graph column, one cell per commit, like git log
// --graph folded to one line a commit: '*' is the commit, '|' a line of
// descent passing by, '\' after the '*' a merge opening a line for its
// other parent. Each commit is laid out once, as its page loads, from
// the lines left open by the commits above it; drawing a screen only
// looks its page up.
type graph struct {
	lanes []dag.ID // the commit each open line of descent waits for
	cells []string // per loaded commit, in list order
}

// add lays out the next commits of the list.
func (g *graph) add(entries []repo.LogEntry) {
	for _, e := range entries {
		col := slices.Index(g.lanes, e.ID)
		if col < 0 {
			g.lanes = append(g.lanes, e.ID)
			col = len(g.lanes) - 1
		}
		// The commit's line goes on to its parents not on a line yet, the
		// first parent in its place and the others beside it; a parent
		// already on a line joins it, closing this one.
		var opened []dag.ID
		for _, p := range e.Parents {
			if !slices.Contains(g.lanes, p) && !slices.Contains(opened, p) {
				opened = append(opened, p)
			}
		}
		var b strings.Builder
		for j := range min(len(g.lanes), maxLanes) {
			switch {
			case j == col && len(opened) > 1:
				b.WriteString("*\\")
			case j == col:
				b.WriteString("* ")
			default:
				b.WriteString("| ")
			}
		}
		if len(g.lanes) > maxLanes {
			b.WriteString("… ")
		}
		g.cells = append(g.cells, b.String())
		g.lanes = slices.Concat(g.lanes[:col:col], opened, g.lanes[col+1:])
	}
}

// column is the graph of the commits from..to, padded to one width.
func (g *graph) column(from, to int) []string {
	width := 0
	for _, c := range g.cells[from:to] {
		width = max(width, utf8.RuneCountInString(c))
	}
	out := make([]string, 0, to-from)
	for _, c := range g.cells[from:to] {
		out = append(out, c+strings.Repeat(" ", width-utf8.RuneCountInString(c)))
	}
	return out
}
