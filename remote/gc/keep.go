package gc

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/remote"
)

// Keep is a keep policy: which commits of each branch's history stay.
// A branch keeps its tip, the commits within Last of it (as git's
// --depth: a commit's depth is its shortest distance from the tip along
// any parent, the tip being 1), and those made within Within of the run
// (by the server's clock), walking down from the tip only through commits
// kept. Tags, model versions and stages always keep the commits they name
// (not those commits' history). The zero policy keeps all history.
type Keep struct {
	Last   int
	Within time.Duration
}

// Active reports whether the policy cuts any history.
func (k Keep) Active() bool { return k.Last > 0 || k.Within > 0 }

// ParseAge parses a duration that may also be counted in days ("90d"),
// besides Go's units ("36h", "90m").
func ParseAge(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.ParseFloat(n, 64)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("%q: not a number of days", s)
		}
		return time.Duration(d * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q: not a duration (90d, 36h, 90m)", s)
	}
	return d, nil
}

// commitInfo is what the policy reads of a commit.
type commitInfo struct {
	parents []dag.ID
	time    time.Time
}

// cut is where a keep policy cuts a remote's history.
type cut struct {
	// kept are the commits the policy keeps; nil: all (no policy).
	kept map[dag.ID]bool
	// shallow are the commits whose parents the marking does not follow
	// (unless kept): the remote's shallow list to write.
	shallow map[dag.ID]bool
}

// cuts reports whether the marking leaves the parents of commit that the
// policy does not keep to go.
func (c *cut) cuts(commit dag.ID) bool {
	return c != nil && c.kept != nil && c.shallow[commit]
}

// policy computes the cut: the commits k keeps from refs, and the
// shallow list (the kept commits with a parent not kept, and the commits
// of the previous list the remote still holds).
func (g *Graph) policy(refs []remote.Ref, k Keep, now time.Time, prev map[dag.ID]bool) *cut {
	c := &cut{shallow: map[dag.ID]bool{}}
	for id := range prev {
		if len(g.packs[id]) > 0 {
			c.shallow[id] = true
		}
	}
	if !k.Active() {
		return c
	}
	kept := map[dag.ID]bool{}
	// Every commit a ref names other than as a parent: tips, tags, the
	// data of model versions (and of their previous versions, and the
	// versions of stage moves).
	seen := map[dag.ID]bool{}
	var stack []dag.ID
	for _, r := range refs {
		stack = append(stack, r.ID)
	}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		if _, ok := g.commits[id]; ok {
			kept[id] = true
			continue // its tree names no commits
		}
		if g.models[id] {
			stack = append(stack, g.links[id]...)
		}
	}
	// Each branch's history, breadth first from its tip.
	type at struct {
		id    dag.ID
		depth int
	}
	for _, r := range refs {
		if !strings.HasPrefix(r.Name, "refs/heads/") {
			continue
		}
		depth := map[dag.ID]bool{r.ID: true}
		queue := []at{{r.ID, 1}}
		for len(queue) > 0 {
			a := queue[0]
			queue = queue[1:]
			ci, ok := g.commits[a.id]
			if !ok {
				continue // cut before, or not on the remote
			}
			if a.depth > 1 && !(k.Last > 0 && a.depth <= k.Last) && !(k.Within > 0 && now.Sub(ci.time) <= k.Within) {
				continue
			}
			kept[a.id] = true
			for _, p := range ci.parents {
				if !depth[p] {
					depth[p] = true
					queue = append(queue, at{p, a.depth + 1})
				}
			}
		}
	}
	for id := range kept {
		for _, p := range g.commits[id].parents {
			if !kept[p] {
				c.shallow[id] = true
			}
		}
	}
	c.kept = kept
	return c
}
