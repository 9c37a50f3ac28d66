package main

import (
	"os"
	"os/exec"

	"github.com/spf13/cobra"

	"github.com/dxdata/dx/internal/repo"
)

// freeTrash frees the big files a command replaced or removed in the
// worktree at root (see internal/repo/trash.go): in a detached dx, so
// that the command returns without waiting for the file system to free
// their blocks, or here if that cannot start.
func freeTrash(root string) {
	if !repo.TrashPending(root) {
		return
	}
	if exe, err := os.Executable(); err == nil {
		cmd := exec.Command(exe, "debug", "empty-trash", root)
		cmd.SysProcAttr = detachedAttr()
		if cmd.Start() == nil { // stdin, stdout and stderr: the null device
			// Reaped if this process lives on (dx subscribe frees after
			// every update), where a released child would stay a zombie;
			// a command that exits first leaves it to init.
			go func() { _ = cmd.Wait() }()
			return
		}
	}
	_ = repo.EmptyTrash(root)
}

// emptyTrashCmd is what freeTrash starts.
func (a *app) emptyTrashCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "empty-trash ROOT",
		Short: "Free the files in the trash of the worktree at ROOT (what a command starts, detached, after replacing a big file)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return repo.EmptyTrash(args[0])
		},
	}
}
