// Package tui is dx's terminal UI: a commit list loaded a page at a time
// and, beside it, the selected commit's details and changed paths. It
// follows bubbletea's pattern: Model holds the state, Update turns a
// message into a new state and commands, View draws the state, and every
// read of the repository runs in a command that returns a message, so the
// screen never waits on the store.
//
// It reads only through the History interface, which RepoHistory serves
// with the calls the CLI uses (repo.LogWalker for dx log, Show for dx
// show): the UI has no second way to read the store. Nothing below cmd/dx
// imports this package, so the library never depends on bubbletea.
package tui
