// Package gc collects the garbage of a shared remote (packs no ref can
// reach, old events) without a lock, while others push to it.
//
// The protocol. A collector run, with grace D:
//
//  1. Reads the state object gc/state: the packs the previous run
//     condemned, and its grace. If that run's packs have not waited
//     max(its grace, the grace before it) since the state was written,
//     by the server's clock, the run only reports.
//  2. Reads every ref, every index and the metadata of every pack (one
//     ranged GET a pack), and marks: live are the objects the refs reach,
//     and everything named by an object in a pack that is kept; a pack is
//     kept when it holds a live object, or when it or its index is younger
//     than D (a push on its way).
//  3. Removes each previously condemned pack that is still not kept and
//     was not written again since it was condemned: its index first, then
//     the pack.
//  4. Condemns the packs not kept (and packs without an index) and writes
//     the new state by compare-and-swap: a second collector loses.
//
// Writers (push, replicate) read gc/state before they list the indexes
// they deduplicate against; they never reuse an object of a condemned
// pack (they upload it again), and before each index and ref they write
// they check that the grace they read has not passed since that read, by
// their own monotonic clock; past it they read the state again and go on
// only if no round, or one that condemned none of the packs they rely
// on, ran since (GCState.Round).
//
// Why no ref ever names a removed object. Take a pack P condemned by a
// state written at server time T and removed at R ≥ T + D_T, where D_T
// bounds every grace a writer could have read before T. A writer that
// read the state after T saw P condemned and did not reuse it; one that
// read it at L < T moves its refs before L + D_L < T + D_T ≤ R. Its refs,
// read by the remover before R, make what it reused live, and a live pack
// is not removed. Its own new packs are younger than D until it is done,
// or it gives up before writing their indexes or refs. Every interval is
// measured by one clock (the server's, or the writer's monotonic clock),
// so skewed clocks do not matter. Marking keeps everything a kept pack
// names, so the remote's indexes stay closed under "names": a writer may
// stop its walk at any object it finds there.
//
// A keep policy (Keep) cuts branches' history: the collector writes the
// commits whose parents it cuts to remote.ShallowKey by compare-and-swap
// before step 3, and marking skips exactly those parents (when the policy
// does not keep them). The indexes stay closed under "names" but for the
// parents of listed commits, which readers tolerate and nothing else.
package gc
