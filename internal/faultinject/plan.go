package faultinject

import (
	"errors"
	"fmt"
	"syscall"
)

// ErrUnsupported: this platform has no tracer.
var ErrUnsupported = errors.New("faultinject: only linux/amd64 is supported")

// Class is a family of system calls counted together.
type Class string

const (
	Write  Class = "write"  // write, pwrite64, writev, pwritev, copy_file_range
	Fsync  Class = "fsync"  // fsync, fdatasync
	Rename Class = "rename" // rename, renameat, renameat2
	Unlink Class = "unlink" // unlink, unlinkat, rmdir
)

// Classes lists every class.
var Classes = []Class{Write, Fsync, Rename, Unlink}

// Plan says which call to fault and how.
type Plan struct {
	Class Class `json:"class"`
	// N numbers the call from 1; 0 injects nothing and only counts.
	N int `json:"n"`
	// Errno, when non-zero, is returned by the call instead of running it;
	// zero kills the process with SIGKILL as the call is entered.
	Errno syscall.Errno `json:"errno,omitempty"`
}

// Validate checks the plan.
func (p Plan) Validate() error {
	switch p.Class {
	case Write, Fsync, Rename, Unlink:
	default:
		return fmt.Errorf("faultinject: unknown class %q", p.Class)
	}
	if p.N < 0 {
		return fmt.Errorf("faultinject: N %d < 0", p.N)
	}
	return nil
}

func (p Plan) String() string {
	act := "SIGKILL"
	if p.Errno != 0 {
		act = errnoName(p.Errno)
	}
	return fmt.Sprintf("%s#%d:%s", p.Class, p.N, act)
}

func errnoName(e syscall.Errno) string {
	switch e {
	case syscall.ENOSPC:
		return "ENOSPC"
	case syscall.EIO:
		return "EIO"
	case syscall.EDQUOT:
		return "EDQUOT"
	}
	return fmt.Sprintf("errno%d", int(e))
}

// Report is what happened in one run.
type Report struct {
	Calls int `json:"calls"` // calls of the plan's class the command entered
	// Counts has the calls of every class (up to the fault).
	Counts map[Class]int `json:"counts"`
	// Fired: the fault was injected; Call describes the call it hit, as
	// "renameat2(/w/t.csv.tmp, /w/t.csv)".
	Fired bool   `json:"fired"`
	Call  string `json:"call,omitempty"`
	// Exit is the command's exit code, or -1 when a signal ended it.
	Exit   int `json:"exit"`
	Signal int `json:"signal,omitempty"`
}
