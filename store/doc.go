// Package store is dx's content-addressed storage: the chunk ingest
// pipeline, immutable pack files, the object index, the badger index,
// refs and their reflog, fsck and gc.
//
// Nouns:
//   - Store: one repository's `.dx/` directory, held by one process at a time.
//   - Pack: an immutable file of compressed objects with a footer index
//     (see store/pack). Data chunks and metadata go to separate packs.
//   - Object index: where every object is, in location files (sorted
//     tables, internal/locfile) listed in badger, and in memory for
//     what this process indexed since (objindex.go).
//   - Index: badger, holding pack records, refs, the list of location
//     files and callers' derived data (key layout in index.go).
//   - Packer: builds the pack open for data or for metadata, in memory;
//     the pack finisher writes, fsyncs and indexes full packs in order.
//   - Ref: a name (refs/heads/main, refs/tags/v1, …) pointing at an object.
//     HEAD is a ref that may be symbolic ("ref: refs/heads/main").
//   - Layout: how a file's chunks are cut: by the chunker (store/chunker),
//     or at a Parquet file's pages (store/chunker/parquetcut), chosen per
//     file by its magic bytes or the caller's say (ingest_layout.go). Hashing
//     and storing cut alike, so a File's ID does not depend on the mode.
//   - Located objects: a list of objects located in the index at once,
//     their packs held open, read afterwards in runs of neighbours without
//     the index, even once the store is closed (located.go).
//   - Derived data: tables of the index under prefixes owned by callers
//     (the worktree's caches, in internal/worktree), which the store keeps
//     without reading. A Referrer is derived data that names objects: GC
//     and Fsck consult the referrers they are given.
//
// Write order and durability: objects are appended to a temporary pack file;
// Flush (or a full pack) writes the footer, fsyncs, renames the file to
// packs/<id>.pack, records the pack in the journal, and only then commits
// the pack's entries in the object index (in memory, written out as a
// location file when the store closes). Refs move last, once the journal is
// synced, by compare-and-swap in one badger transaction; an open that finds
// the journal (its writer did not close) indexes its packs again
// (journal.go). A crash at
// any point leaves only unreferenced packs or index entries, which gc removes;
// no ref ever names an object that is not durably stored.
//
// Access: a store is opened ReadWrite by one process at a time, or
// ReadOnly by any number of readers, which write nothing (not even caches)
// and so work on a full disk. A ReadOnly open still writes when the index
// must first be recovered from a writer's crash, or a v1 store upgraded.
//
// Free space: badger writes its memtables, value log and tables through
// mappings of sparse files, where a full disk kills the process instead of
// failing a write; so a writer keeps a reserve free for the index (a
// memtable file of twice the memtable size for each memtable it may hold,
// a value log file of twice its size, one level-0 table, a compaction as
// big as the index directory, and a MiB of margin). Opening for writing,
// and each pack or staged object, fails with ErrNoSpace before it would eat
// into the reserve; ENOSPC and EDQUOT from other writes are ErrNoSpace too.
// The reserve holds against dx's own writes only, not against another
// program filling the disk meanwhile.
//
// store knows nothing of branches' meaning, of worktrees or of the network.
package store
