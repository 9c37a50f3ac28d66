// Package parquetcut cuts a Parquet file at its own page boundaries, so
// that a page that two files (or two places in one file) share is stored
// once, wherever it sits.
//
// Plan reads the footer (FileMetaData, thrift compact protocol) and the page
// headers of every column chunk and returns Spans that tile the file: runs
// of small pages of one column chunk (grouped at content-defined pages),
// each one chunk; pages larger than the average chunk, and any bytes
// between column chunks (page indexes, bloom filters), cut inside with
// FastCDC starting afresh at each; the leading magic as a chunk of its own
// (one chunk for every Parquet file); and the footer (metadata, its length
// and the closing magic) as a chunk of its own. The plan depends only on
// the file's bytes.
//
// The footer is read by a small bounded reader of its own rather than the
// Parquet library's decoder, which allocates whatever list length a corrupt
// footer claims. A file that is not valid Parquet gives an error wrapping
// ErrNotParquet and no plan; the caller then cuts it as plain bytes.
package parquetcut
