//go:build !unix

package main

import "syscall"

// detachedAttr: nothing to set here.
func detachedAttr() *syscall.SysProcAttr { return nil }
