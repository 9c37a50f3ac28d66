// Package synthhistory appends a long linear history of small commits to a
// repository's current branch, written straight to the store: dx commit
// would scan the worktree and flush the store for each one, which makes a
// 100,000-commit history take hours. The benchmark of dx ui builds its
// long history with it (through the hidden dx debug history).
//
// Each commit is a real one: it rewrites one small file (Options.Path)
// with its step number, so that the commit has a change to show, and it
// has the author, a time one second after its parent's, and a message
// "Step N". The branch moves once, by compare-and-swap, after every object
// is stored; a run killed before that leaves only unreachable objects,
// which gc removes. The worktree is not touched: after a run the file at
// Path is what dx checkout --force would bring.
package synthhistory
