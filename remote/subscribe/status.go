package subscribe

import (
	"context"
	"sort"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/remote"
)

// BranchStatus is one cursor and what waits behind it.
type BranchStatus struct {
	Remote    string    `json:"remote"`
	Branch    string    `json:"branch"`
	Cursor    dag.ID    `json:"cursor"`
	Handled   time.Time `json:"handled,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	Failures  int       `json:"failures,omitempty"`
	// FailedHead is the head of the delta that failed last.
	FailedHead dag.ID `json:"failed_head,omitzero"`
	// Head is the remote branch's head now; Pending is true when it is
	// not the cursor (a delta waits to be handled). HeadError says why
	// the head could not be read.
	Head      dag.ID `json:"head"`
	Pending   bool   `json:"pending"`
	HeadError string `json:"head_error,omitempty"`
	// PendingCommits are the commits from the head back to the cursor,
	// newest first, at most maxPendingShown, when this repository holds
	// them (a step fetched them); MorePending says there are more.
	PendingCommits []PendingCommit `json:"pending_commits,omitempty"`
	MorePending    bool            `json:"more_pending,omitempty"`
}

// PendingCommit is one commit waiting to be handled.
type PendingCommit struct {
	ID      dag.ID `json:"id"`
	Subject string `json:"subject"`
}

// maxPendingShown bounds the pending commits --status lists.
const maxPendingShown = 20

// pendingCommits lists the commits from head back to cursor, when the
// repository holds head; none otherwise.
func pendingCommits(ctx context.Context, r Repo, head, cursor dag.ID) ([]PendingCommit, bool) {
	log, err := r.Log(ctx, []string{head.String()}, maxPendingShown+1)
	if err != nil {
		return nil, false // not fetched here yet
	}
	var out []PendingCommit
	for _, e := range log {
		if e.ID == cursor {
			return out, false
		}
		if len(out) == maxPendingShown {
			return out, true
		}
		out = append(out, PendingCommit{ID: e.ID, Subject: dag.Subject(e.Message)})
	}
	return out, false
}

// Status lists every cursor kept in stateDir, by remote and branch, with
// the remote heads read now. A remote that cannot be reached is reported
// in each of its branches' HeadError.
func Status(ctx context.Context, open Opener, stateDir string) ([]BranchStatus, error) {
	names, err := remotesWithCursors(stateDir)
	if err != nil {
		return nil, err
	}
	var out []BranchStatus
	for _, name := range names {
		cursors, err := loadCursors(stateDir, name)
		if err != nil {
			return nil, err
		}
		var be remote.Backend
		openErr := open(ctx, func(r Repo) error {
			var err error
			_, be, err = r.OpenRemote(ctx, name)
			return err
		})
		branches := make([]string, 0, len(cursors.Branches))
		for b := range cursors.Branches {
			branches = append(branches, b)
		}
		sort.Strings(branches)
		for _, b := range branches {
			c := cursors.Branches[b]
			st := BranchStatus{Remote: name, Branch: b, Cursor: c.Commit, Handled: c.Handled, LastError: c.LastError, Failures: c.Failures, FailedHead: c.FailedHead}
			if openErr != nil {
				st.HeadError = openErr.Error()
			} else if ref, err := remote.ReadRef(ctx, be, refOf(b)); err != nil {
				st.HeadError = err.Error()
			} else {
				st.Head = ref.ID
				st.Pending = !ref.ID.IsZero() && ref.ID != c.Commit
			}
			if _, _, isModel := parseModelKey(b); st.Pending && !isModel {
				_ = open(ctx, func(r Repo) error {
					st.PendingCommits, st.MorePending = pendingCommits(ctx, r, st.Head, c.Commit)
					return nil
				})
			}
			out = append(out, st)
		}
	}
	return out, nil
}
