package subscribe

import (
	"context"
	"fmt"
	"os"
	"os/exec"

	"github.com/dxdata/dx/dag"
)

// runCommand runs the command on the delta in dir, with DX_REMOTE,
// DX_BRANCH, DX_OLD (empty for a first delta), DX_NEW and DX_DELTA in its
// environment, and waits for it.
func (s *subscriber) runCommand(ctx context.Context, branch string, old, head dag.ID, dir string) error {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", s.o.Command)
	cmd.Dir = s.o.WorkDir
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = s.o.Stdout, s.o.Stderr
	oldText := ""
	if !old.IsZero() {
		oldText = old.String()
	}
	cmd.Env = append(os.Environ(),
		"DX_REMOTE="+s.remote,
		"DX_BRANCH="+branch,
		"DX_OLD="+oldText,
		"DX_NEW="+head.String(),
		"DX_DELTA="+dir,
	)
	release := stopWithParent(cmd)
	err := cmd.Run()
	release()
	if err != nil {
		return fmt.Errorf("%s..%s: %w: %v", shortOrNothing(old), head.Short(), ErrCommandFailed, err)
	}
	return nil
}
