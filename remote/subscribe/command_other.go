//go:build !linux

package subscribe

import "os/exec"

// stopWithParent does nothing here: without a parent-death signal, a
// command outlives a subscriber killed while it runs.
func stopWithParent(cmd *exec.Cmd) (release func()) { return func() {} }
