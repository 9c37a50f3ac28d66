// Package dag defines dx's object model: content IDs, object kinds, the
// canonical encoding of every object, strict decoding, the Merkle sequence
// that splits big files and big directories into shared nodes, and the tree
// walking, diffing and editing built on top of them.
//
// Nouns:
//   - ID: a 32-byte BLAKE3 digest, keyed per Kind (derive-key mode), so an
//     object of one kind can never be passed off as another.
//   - Chunk: raw bytes of one content-defined chunk of a file.
//   - File: the ordered list of a file's chunks (a Merkle sequence of FileNodes).
//   - Tree: the sorted entries of one directory (a Merkle sequence of TreeNodes).
//   - Commit: a tree, its parents, author, time, message and metadata.
//   - Model: a registered model version and the data it was trained on.
//   - StageMove: one move of a model's stage (production, …) to a version,
//     or off every version; each names the move before it.
//
// dag does no I/O: objects are read through the one-method Getter interface
// and written through Putter, both declared here and implemented by store.
package dag
