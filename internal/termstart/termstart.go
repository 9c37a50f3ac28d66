// Package termstart keeps dx from asking the terminal for its colours as
// every command starts. bubbletea's init asks (lipgloss's
// HasDarkBackground: an OSC 11 query, then a cursor report) in every
// program that links it: a round trip to the terminal before each
// command, keys typed ahead taken for the answer, and a 5 s wait where
// nothing answers (a pty whose other end is no terminal: script, expect).
//
// This package's init runs first: Go initializes packages in import-path
// order as their imports allow, this one needs only os, and it sorts
// before github.com/muesli/termenv, which lipgloss and bubbletea need. It
// hides TERM as "dumb", which termenv does not query; main calls Restore
// before anything else. The terminal UI asks for itself, through a
// renderer made after that (internal/tui).
package termstart

import "os"

// term is TERM as dx was started with (set: whether it was). The state of
// an init that must run before main: package variables, read once.
var term, termSet = os.LookupEnv("TERM")

func init() {
	_ = os.Setenv("TERM", "dumb")
}

// Restore puts TERM back.
func Restore() {
	if termSet {
		_ = os.Setenv("TERM", term)
	} else {
		_ = os.Unsetenv("TERM")
	}
}
