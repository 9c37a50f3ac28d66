package subscribe

import (
	"os/exec"
	"runtime"
	"syscall"
)

// stopWithParent makes the command's shell die with the subscriber, even
// by SIGKILL, so that a restarted subscriber's run of the same delta never
// overlaps the killed one's. The parent-death signal is tied to the thread
// that started the child, so the caller holds its thread until the command
// ends (release).
func stopWithParent(cmd *exec.Cmd) (release func()) {
	runtime.LockOSThread()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return runtime.UnlockOSThread
}
