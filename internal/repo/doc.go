// Package repo is dx's porcelain: a repository is a worktree with a `.dx`
// store in it. It implements the user-level operations — init, status,
// commit, checkout, branches and tags, log, diff, cat, fsck, gc — on top of
// dag (objects) and store (storage). It never prints: results are values,
// progress goes through progress.Reporter.
package repo
