package subscribe

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/delta"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/remote"
)

// step brings one branch up to its remote head: it reads the head, and if
// it differs from the cursor fetches it, moves the local refs, writes the
// delta from the cursor, runs the command and, once that exits 0, moves
// the cursor. Nothing moves the cursor otherwise.
func (s *subscriber) step(ctx context.Context, branch string) error {
	old := s.cursors.Branches[branch].Commit
	last, ok := s.refs[branch]
	if !ok {
		last = remote.Ref{Name: refOf(branch)}
	}
	ref, err := remote.ReadRefIfChanged(ctx, s.be, last)
	if err != nil {
		return s.failed(branch, old, dag.ZeroID, fmt.Errorf("reading %s: %w", branch, err))
	}
	s.refs[branch] = ref
	head := ref.ID
	if head.IsZero() || head == old {
		// Not there (yet), or nothing new: an earlier failure (the remote
		// unreachable) is over.
		return s.recovered(branch)
	}
	var dir string
	var env []string
	if _, _, isModel := parseModelKey(branch); isModel {
		dir, env, err = s.prepareModel(ctx, branch, head)
	} else {
		dir, err = s.prepare(ctx, branch, old, head)
		env = []string{"DX_BRANCH=" + branch, "DX_DELTA=" + dir}
	}
	if dir != "" {
		defer os.RemoveAll(dir)
	}
	if err != nil {
		return s.failed(branch, old, head, err)
	}
	// The run's files stay until the cursor has moved: a subscriber
	// killed before then adopts the run on restart.
	run := runFilesFor(s.o.StateDir, s.remote, branch)
	if err := s.runCommand(ctx, branch, old, head, dir, env); err != nil {
		_ = run.remove()
		return s.failed(branch, old, head, err)
	}
	s.cursors.Branches[branch] = Cursor{Commit: head, Handled: time.Now().UTC()}
	if err := s.cursors.save(); err != nil {
		return s.failed(branch, old, head, fmt.Errorf("saving the cursor: %w", err))
	}
	if err := run.remove(); err != nil {
		return s.failed(branch, old, head, err)
	}
	delete(s.retryAt, branch)
	s.report(Event{Kind: Handled, Remote: s.remote, Branch: branch, Old: old, New: head})
	return nil
}

// prepare fetches head, checks that it descends from old, moves the local
// branches and writes the delta from old to head into a new directory,
// which it returns (also on error, to be removed).
func (s *subscriber) prepare(ctx context.Context, branch string, old, head dag.ID) (dir string, err error) {
	err = s.open(ctx, func(r Repo) error {
		if _, err := r.FetchBranch(ctx, s.remote, branch, head); err != nil {
			return err
		}
		if !old.IsZero() {
			ok, cut, err := r.Descends(ctx, old, head)
			if err != nil {
				return err
			}
			if !ok && cut && !s.o.AcceptRewrites {
				return fmt.Errorf("maybe %w: the history between the last handled commit %s and %s was collected on the remote (shallow), so whether it descends cannot be told; nothing was run (--accept-rewrites follows it)", ErrRewritten, old.Short(), head.Short())
			}
			if !ok && !s.o.AcceptRewrites {
				return fmt.Errorf("%w: %s does not descend from the last handled commit %s; nothing was run (--accept-rewrites follows it)", ErrRewritten, head.Short(), old.Short())
			}
		}
		if s.o.Into != "" {
			if _, err := r.AdvanceBranch(ctx, s.o.Into, head); err != nil {
				return fmt.Errorf("--into %s: %w", s.o.Into, err)
			}
		}
		tables, err := r.DiffRows(ctx, repo.RowDiffOptions{From: old, To: head})
		if err != nil {
			return err
		}
		var paths []string
		for _, td := range tables {
			if td.Rows != nil && td.Change.New != nil {
				paths = append(paths, td.Change.Path)
			}
		}
		drift, err := r.ContractDrift(ctx, old, head, paths)
		if err != nil {
			return fmt.Errorf("drift: %w", err)
		}
		if dir, err = s.runDir(); err != nil {
			return err
		}
		_, err = delta.Write(ctx, r, []delta.Source{{From: old, Tables: tables}}, head, delta.Options{Dir: dir, Drift: drift})
		return err
	})
	return dir, err
}

// recovered clears the failure recorded for branch, if any.
func (s *subscriber) recovered(branch string) error {
	delete(s.retryAt, branch)
	c := s.cursors.Branches[branch]
	if c.Failures == 0 {
		return nil
	}
	c.Failures, c.LastError, c.FailedHead = 0, "", dag.ZeroID
	s.cursors.Branches[branch] = c
	return s.cursors.save()
}
