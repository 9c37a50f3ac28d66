package tui

import (
	"context"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
)

// RefBrowser is what the branch picker reads: the refs to pick from, and
// a new log in place of the one NextCommits pages. A History that also
// implements it gets b (pick a ref) and a (all refs).
type RefBrowser interface {
	// Refs lists the branches, then the tags, then the remote branches.
	Refs(ctx context.Context) ([]RefChoice, error)
	// Restart makes NextCommits page the log of revs from its start; nil
	// revs is every ref and HEAD, as dx log --all.
	Restart(ctx context.Context, revs []string) error
}

// RefChoice is one ref the picker offers.
type RefChoice struct {
	Kind    string // branch, tag or remote
	Name    string // as dx branch, dx tag and dx branch -r list it
	Ref     string // the full ref name, a revision for Restart
	ID      dag.ID
	Subject string
	Current bool // the branch HEAD is on
}

// Refs lists the refs with the calls dx branch and dx tag use.
func (h *RepoHistory) Refs(ctx context.Context) (out []RefChoice, err error) {
	err = h.read(ctx, func(r *repo.Repo) error {
		lists := []struct {
			kind, prefix string
			list         func(context.Context) ([]repo.RefInfo, error)
		}{
			{"branch", "refs/heads/", r.Branches},
			{"tag", "refs/tags/", r.Tags},
			{"remote", "refs/remotes/", r.RemoteBranches},
		}
		for _, l := range lists {
			infos, err := l.list(ctx)
			if err != nil {
				return err
			}
			for _, ri := range infos {
				out = append(out, RefChoice{Kind: l.kind, Name: ri.Name, Ref: l.prefix + ri.Name, ID: ri.ID, Subject: ri.Subject, Current: ri.Current})
			}
		}
		return nil
	})
	return out, err
}

// Restart starts a new log with the call dx log uses.
func (h *RepoHistory) Restart(ctx context.Context, revs []string) error {
	return h.read(ctx, func(r *repo.Repo) error {
		if revs == nil {
			all, err := r.AllRevs(ctx)
			if err != nil {
				return err
			}
			revs = all
		}
		w, err := r.WalkLog(ctx, revs)
		if err != nil {
			return err
		}
		h.mu.Lock()
		h.walker = w
		h.mu.Unlock()
		return nil
	})
}

// openRefs opens the branch picker.
func (m Model) openRefs() (Model, tea.Cmd) {
	rb, ok := m.history.(RefBrowser)
	if !ok {
		m.status = "this history has no refs to pick from"
		return m, nil
	}
	ctx := m.ctx
	return m.openMenu(refsMenu, "branches, tags and remote branches (Enter shows, a all)", "no branches or tags", func() menuMsg {
		refs, err := rb.Refs(ctx)
		return menuMsg{refs: refs, err: err}
	})
}

// refLines are the picker's lines: kind, name (* on the current branch),
// short id and subject.
func (m Model) refLines(refs []RefChoice) []string {
	lines := make([]string, len(refs))
	for i, r := range refs {
		current := " "
		if r.Current {
			current = "*"
		}
		lines[i] = fmt.Sprintf("%-6s %s %s %s %s", r.Kind, current,
			m.styles.decoration.Render(fmt.Sprintf("%-20s", displayPath(r.Name))), m.styles.id.Render(r.ID.Short()), r.Subject)
	}
	return lines
}

// pickRef shows the history of the picked ref.
func (m Model) pickRef(r RefChoice) (Model, tea.Cmd) {
	m.menu = menu{}
	name := r.Name
	if r.Kind == "tag" {
		name = "tag: " + name
	}
	return m.restart(name, []string{r.Ref})
}

// allRefs names the history of every ref in the title line.
const allRefs = "all refs"

// showAll shows the history of every ref, merged newest first.
func (m Model) showAll() (Model, tea.Cmd) { return m.restart(allRefs, nil) }

// restart replaces the list with the log of revs (nil: every ref), read
// from its start; pages of the old log still in flight are dropped.
func (m Model) restart(label string, revs []string) (Model, tea.Cmd) {
	rb, ok := m.history.(RefBrowser)
	if !ok {
		m.status = "this history cannot show other refs"
		return m, nil
	}
	m.stopSearch()
	m.pendingJump = dag.ID{}
	m.listSeq++
	m.showing = label
	m.commits, m.graph = nil, graph{}
	m.exhausted, m.loading, m.toEnd, m.err = false, true, false, nil
	m.cursor, m.offset = 0, 0
	m.detailFor = dag.ID{}
	seq, ctx, history, n := m.listSeq, m.ctx, m.history, m.opts.PageSize
	return m, func() tea.Msg {
		if err := rb.Restart(ctx, revs); err != nil {
			return commitsMsg{seq: seq, err: err}
		}
		entries, done, err := history.NextCommits(ctx, n)
		return commitsMsg{seq: seq, entries: entries, done: done, err: err}
	}
}
