// Package replicate copies a remote to another remote (another region,
// endpoint or provider) through this machine, with no local store:
// Replicate copies the packs and pack indexes the chosen refs need that
// the destination lacks, then moves the destination's refs by
// compare-and-swap and writes its events, as a push does.
//
// Contract, in write order:
//
//   - Nothing is written before every ref is read on both sides and sorted
//     into created, fast-forward, up to date or diverged. A destination
//     ref that moved on its own (its commit is not an ancestor of the
//     source's; a tag that differs; a model version that is not a
//     previous version of the source's; a stage whose latest move is not
//     one of the source stage's moves) is never overwritten.
//   - Packs are copied whole, unchanged (same name, same bytes), streamed
//     from source to destination with bounded buffers and checked on the
//     way as a fetch checks them: every object decoded and hashed, the
//     footer against the index, the pack against its name. A pack that
//     fails is never completed on the destination (the upload is
//     aborted), and no ref moves. A pack of chunks is copied as soon as
//     the walk of the metadata finds it, while the rest is still read;
//     its objects are checked on all cores as it streams, and the last
//     bytes go only once all are checked.
//   - A pack's index is written after the pack, and the index of a
//     metadata pack only after the indexes of every pack its objects name,
//     so the destination's index never holds an object without what it
//     names (the invariant push relies on), at any moment. A pack copied
//     whole brings every object in it, so what those objects name comes
//     too, even for refs not chosen.
//   - Refs move last, each by compare-and-swap against the value read at
//     the start; a ref that moved meanwhile is reported as diverged.
//   - A ref deleted on the source (its tombstone) is deleted on the
//     destination where the destination's value is one the source holds;
//     a value the destination got on its own is left, as diverged.
//
// A run killed at any point leaves the destination valid: packs without
// an index (invisible to readers), which a rerun finds by listing and does
// not copy again, and complete packs with their indexes, which it skips.
package replicate
