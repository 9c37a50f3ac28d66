// Package remote moves objects and refs between a local store and a
// remote: an S3 bucket (through minio-go) or a plain directory.
//
// A remote holds, under its prefix: packs/<id>.pack (the local pack
// format), index/<id>.idx (a copy of each pack's footer), refs/heads/…,
// refs/tags/…, refs/models/NAME, refs/stages/NAME/STAGE (a commit, model
// version or stage move id in hex: RefKind says which), FORMAT, and
// events/ (a log of ref moves, for subscribers). Packs and indexes are
// immutable and written before any ref that names their objects; refs move
// only by compare-and-swap (S3 conditional writes; a lock file and rename
// on a directory). Push learns what the remote holds from its indexes
// (cached locally), sends only what it lacks, packed; fetch downloads only
// what the local store lacks, with coalesced ranged reads, and verifies
// every object before anything is kept.
package remote
