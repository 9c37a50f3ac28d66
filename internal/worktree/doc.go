// Package worktree holds the caches dx keeps of a worktree, beside the
// content store and apart from it, as git keeps its index apart from its
// objects.
//
// Nouns:
//   - Stat cache: path → StatEntry (size, mtime, ctime, inode, mode, and
//     the File its content hashed to), so that an unchanged file is never
//     read again. An entry stands for the file's content only while the
//     file still matches it and was last modified before the entry was
//     recorded, by the file system's clock (Stamp).
//   - Tree cache: the root tree a snapshot built, with a fingerprint of
//     the files it held, so that a snapshot of the same files need not
//     build its trees again.
//
// The stat cache is a file in the store's directory (statfile.go), beside
// the marker whose mtime reads the file system's clock (clock.go), the
// tree cache derived data in the store's index (store.Derived), both
// reached through Index. Losing either is only a cache miss. The stat
// cache names Files, so GC and fsck consult it (StatCacheReferrer): gc
// drops entries naming unreachable Files before it deletes anything, and
// fsck notes entries naming a missing File.
package worktree
