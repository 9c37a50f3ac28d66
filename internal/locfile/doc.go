// Package locfile reads and writes location files: immutable, sorted
// tables that map object IDs to their place in a pack. They are built to
// replace the index's one badger entry per object with one file per batch
// of packs, written once and searched in place.
//
// Layout (integers little-endian):
//
//	header   "DXLOC\x00\x00\x01"                                8 bytes
//	entries  count × 56 bytes, strictly increasing by ID:
//	         id[32] pack u32 kind u8 codec u8 zero u16
//	         offset u64 stored u32 raw u32
//	packs    the pack IDs the entries name, by their index       32 bytes each
//	fanout   256 × u32: how many IDs start with a byte ≤ i
//	trailer  count u64, packs u32, zero u32,
//	         BLAKE3-256 of every byte before it, "DXLOCEND"      56 bytes
//
// Open checks the sizes, the magic and the fanout, not the checksum, so
// that a lookup costs a binary search whatever the file's size; Verify
// reads the whole file (fsck). A lookup that meets a malformed entry
// returns ErrCorrupt; nothing here panics on hostile bytes. Entries that
// a damaged file misplaces are not found: callers verify what they read
// by its ID.
package locfile
