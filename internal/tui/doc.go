// Package tui is dx's terminal UI: a commit list loaded a page at a time,
// with a branch graph column and ref and model decorations, and beside it
// the selected commit's details and changed paths; a search over the log,
// a ref picker, drill-downs into a changed path (rows of a table, a text
// diff, chunk counts of a binary), the models view and lineage, and OSC
// 52 copy. It follows bubbletea's pattern: Model holds the state, Update
// turns a message into a new state and commands, View draws the state,
// and every read of the repository runs in a command that returns a
// message, so the screen never waits on the store.
//
// It reads only through the History interface and the optional ones a
// History may also implement (RowDiffer, FileReader, RefBrowser,
// ModelReader), which RepoHistory serves with the calls the CLI uses
// (repo.LogWalker for dx log, Show for dx show, DiffRows for dx diff
// --rows, Cat for dx cat, the branch, tag and model listings, ModelsUsing
// for dx lineage): the UI has no second way to read the store. Nothing
// below cmd/dx imports this package, so the library never depends on
// bubbletea.
package tui
