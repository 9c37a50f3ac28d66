// Package store is dx's content-addressed storage: the chunk ingest
// pipeline, immutable pack files, the badger index, refs and their reflog,
// the stat cache, fsck and gc.
//
// Nouns:
//   - Store: one repository's `.dx/` directory, held by one process at a time.
//   - Pack: an immutable file of compressed objects with a footer index
//     (see store/pack). Data chunks and metadata go to separate packs.
//   - Index: badger keys mapping every object ID to its pack and offset.
//   - Ref: a name (refs/heads/main, refs/tags/v1, …) pointing at an object.
//     HEAD is a ref that may be symbolic ("ref: refs/heads/main").
//   - Stat cache: path → (size, mtime, inode, ctime, File ID), so unchanged
//     files are never read again.
//
// Write order and durability: objects are appended to a temporary pack file;
// Flush (or a full pack) writes the footer, fsyncs, renames the file to
// packs/<id>.pack, and only then commits the pack's index entries to badger.
// Refs move last, by compare-and-swap in one badger transaction. A crash at
// any point leaves only unreferenced packs or index entries, which gc removes;
// no ref ever names an object that is not durably stored.
//
// store knows nothing of branches' meaning, of worktrees or of the network.
package store
