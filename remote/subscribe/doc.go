// Package subscribe follows branches of a remote from another machine or
// region: on each new head it fetches only the new objects, moves the
// local refs, writes the delta and runs a command on it, and remembers,
// durably, what it has handled. No broker and no server: the remote's
// refs are read directly.
//
// Its nouns:
//
//   - A wake is one pass over the followed branches. The subscriber wakes
//     at start; then on a bucket notification where the server offers
//     them (MinIO), else when a poll of the remote's events/ every
//     interval finds a new event; every refs interval in any case; and
//     when a failed branch's back-off ends.
//   - The head is the commit a remote branch names now, read from the
//     remote's ref (a conditional GET, answered 304 when it has not
//     moved). Refs are the truth; the events/ objects a push writes are
//     hints only, so a pusher killed between moving a ref and writing its
//     event, or a pusher with a skewed clock, delays a commit by at most
//     the refs interval and never hides it.
//   - The cursor is, per remote and branch, the last commit handled: the
//     command ran on the delta ending there and exited 0. Cursors live in
//     .dx/subscribe/REMOTE.json, replaced atomically and fsynced, and are
//     written only after the command succeeds. A subscriber that has no
//     cursor for a branch has handled nothing: its first delta runs from
//     nothing (the empty tree) to the head, so the command sees every row
//     once.
//   - The delta is what changed from the cursor to the head, written by
//     package delta (as dx delta --out writes it): the rows added, changed
//     and removed of every table and the new versions of other files.
//     Several pushes that land between two wakes, or while the command
//     runs, are one delta from the cursor to the newest head.
//
// Guarantees: per branch, heads are handled in order; the command runs
// once for every head the cursor moves to, even across a SIGKILL of the
// subscriber (it runs in a runner process of its own, and a restarted
// subscriber adopts the run: see run.go), and at least once if the runner
// itself dies mid-command, so the command should be idempotent on
// (branch, new head); a failing command is retried with back-off and
// never skipped; a head that does not descend from the cursor
// (a force-push) stops the branch with ErrRewritten unless rewrites are
// accepted.
//
// The repository is held only while a step fetches and writes its delta,
// never while the command runs, so the command may itself run dx.
package subscribe
