// Package merge holds dx's merges and the row diff they stand on. It
// depends on dag alone.
//
// Its nouns:
//
//   - The merge base (Base, base.go) of two commits is their lowest common
//     ancestor, found by walking the commits in generation order.
//   - The tree merge (MergeTrees, tree.go) merges theirs into ours from
//     the merge base, path by path, following renames (content removed
//     under one path and added under another). A path both sides changed
//     differently goes to a FileMerge (tables merge by rows) or becomes a
//     PathConflict. The result (TreeMerge) is the edits that turn ours
//     into the merged tree, and the conflicts.
//   - A table (table.go) is a file read through the Table interface of a
//     format (CSV, TSV, JSONL; implemented in internal/table): a Header,
//     then Rows, each with a Key (its key columns' values joined by
//     KeySep).
//   - The row diff (DiffRows, rowdiff.go) compares two versions of a table
//     by key. Each version is a Source: its chunks (dag.ChunkRef) and a way
//     to read one. Chunks both versions hold are not read (differ.go); the
//     runs of chunks that differ are read (read.go), cut into rows and
//     trimmed of the rows both sides share (rows.go), parsed and matched
//     by key (compare.go). The result (RowDiff) lists the RowChanges.
//   - The row merge (MergeRows, rowmerge.go) is the three-way merge of a
//     table: two row diffs from the base, one per side. It is built on one
//     side, the host (ours, or theirs when only theirs changed the
//     header): the host's chunks are kept, and the other side's changes
//     are written into the chunks holding their rows (rewrite.go). The
//     result (RowMerge) is the merged file as Pieces: chunks kept as they
//     are, or new bytes for the caller to chunk and store. A take
//     (take.go) is a run of the other side's changed chunks that goes in
//     whole, in place of the base chunks the host kept; a blind take goes
//     in unread, when key ranges (ranged.go, dag.KeyRange through a
//     Source that is a KeyRanger) show that no key in it was changed by
//     the host.
//
// Contracts:
//
//   - No I/O of its own: objects come through dag's Getter, chunks through
//     a Source, which may be read from several goroutines at once. It
//     knows nothing of files on disk, of the store or of remotes.
//   - Conflicts are data, not errors: a RowConflict or PathConflict in the
//     result, the merged table keeping the host's version of each
//     conflicting key. MergeRows returns ErrHeaderConflict when both sides changed a
//     header differently; the caller records that as a ConflictHeader.
//     Errors are for versions that are not tables under their spec
//     (ErrInvalidRows, with the SideError saying which) and for failed
//     reads.
//   - The cost of a diff or a merge follows the change, not the table:
//     what is read, parsed and rewritten is counted in DiffStats.
package merge
