//go:build unix

package main

import "syscall"

// detachedAttr starts a process in a session of its own: a signal meant
// for the terminal's foreground job does not stop it.
func detachedAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }
