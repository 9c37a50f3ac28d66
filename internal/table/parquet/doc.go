// Package parquet is the row diff of Parquet tables (Diff): two versions
// of a file, each a merge.Source of chunks, compared by key, reading and
// decoding only what differs, through github.com/parquet-go/parquet-go.
//
// Its nouns:
//
//   - A version (layout.go) is a file opened through its chunks
//     (chunkReader, source.go: a chunk is read when a byte range touches
//     it, and counted), its row groups cut into segments: with an offset
//     index, the rows between consecutive page starts of any column;
//     without one, whole row groups.
//   - Segments of the two versions with the same bytes (named by the
//     chunks holding them; without a leaf key, then by the bytes read)
//     are paired and never decoded (diff.go).
//   - Of the rows left, those whose key is at the same row of the same row
//     group in both versions are compared in place, column by column
//     (inplace.go, partial.go): a column whose pages there are the same
//     bytes is not decoded.
//   - The rest are decoded whole and matched by key (diff.go); a key
//     added or removed that the other version still holds in a segment
//     the diff skipped is a duplicate (keycheck.go).
//   - Values come out as JSON under their logical types (values.go).
//   - Merge (merge.go) is a three-way merge by key: the two sides' row
//     diffs against the base, theirs' changes applied to ours' rows, the
//     result written by cdcwrite with content-defined pages.
//
// Contracts: a version that is not valid Parquet, lacks a key column or
// repeats a key is an error that is merge.ErrInvalidRows inside a
// merge.SideError; two schemas that differ are a *SchemaChange; no panic
// of the library escapes. DiffStats count the rows decoded whole, the
// page bytes decoded and the chunk bytes read.
package parquet
