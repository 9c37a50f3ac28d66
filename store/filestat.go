package store

import "errors"

// FileStat is what Ingest learns of a file it opens (IngestFile.Stat): the
// fields of a worktree's stat cache entry.
type FileStat struct {
	Size    int64
	MtimeNs int64
	CtimeNs int64
	Inode   uint64
	Exec    bool // any execute bit set
}

// ErrNotRegular: a file to be read by path is no longer a regular file
// (it was replaced since it was listed).
var ErrNotRegular = errors.New("no longer a regular file")
