package main

import (
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
)

// drawGraph prefixes formatted log entries with a lane graph: one column
// per line of descent, '*' for the commit, '|' for lanes passing by.
func drawGraph(entries []repo.LogEntry, texts []string) []string {
	var lanes []dag.ID
	out := make([]string, 0, len(texts))
	for i, e := range entries {
		col := -1
		for j, l := range lanes {
			if l == e.ID {
				col = j
				break
			}
		}
		if col < 0 {
			lanes = append(lanes, e.ID)
			col = len(lanes) - 1
		}
		lines := strings.SplitAfter(texts[i], "\n")
		if lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		for k, line := range lines {
			var b strings.Builder
			for j := range lanes {
				if j == col && k == 0 {
					b.WriteString("* ")
				} else {
					b.WriteString("| ")
				}
			}
			out = append(out, b.String()+line)
		}
		// The commit's lane continues with its first parent; other parents
		// open lanes; a parent already on a lane merges into it.
		var next []dag.ID
		for j, l := range lanes {
			if j != col {
				next = append(next, l)
				continue
			}
			for _, p := range e.Parents {
				if !containsID(lanes, p) && !containsID(next, p) {
					next = append(next, p)
				}
			}
		}
		if len(next) < len(lanes) && len(e.Parents) > 0 && len(out) > 0 {
			out = append(out, strings.Repeat("| ", len(next))+"\n")
		}
		if len(e.Parents) > 1 {
			out = append(out, strings.Repeat("| ", col)+"|\\\n")
		}
		lanes = next
	}
	return out
}

func containsID(ids []dag.ID, id dag.ID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
