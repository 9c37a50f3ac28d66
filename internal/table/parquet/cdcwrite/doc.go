// Package cdcwrite writes Parquet files whose data pages and row groups
// end at content-defined boundaries, so that a file rewritten after a few
// rows changed, or rows were inserted or appended, shares nearly all of its
// pages with the file before, page for page, and dx (which chunks Parquet
// at its pages, store/chunker/parquetcut) stores only the pages around the
// edits.
//
// It is Arrow's content-defined chunking for Parquet (Arrow C++ and
// pyarrow's use_content_defined_chunking, arrow-rs's CdcOptions) done with
// github.com/parquet-go/parquet-go, which has none: a gear rolling hash
// runs over each column's values (their levels and plain bytes); a page of
// a column ends after the row in which the hash's high bits matched, once
// the page holds MinPage bytes of values, and always by MaxPage. A row
// group ends the same way, by a hash over every value of the row, between
// MinGroup and MaxGroup bytes. Each boundary depends only on the values
// shortly before it, so an edit moves the boundaries near it and no others.
//
// Pages are compressed with zstd, with statistics and the page index
// (column and offset indexes), in encodings local to each page (integers
// DELTA_BINARY_PACKED, byte arrays DELTA_LENGTH_BYTE_ARRAY, the rest
// PLAIN), except that a column the source schema dictionary-encodes keeps
// a dictionary, up to 64 KiB of it. A dictionary is per row group and
// numbers values in the order they first appear, so a value new to the
// row group renumbers the values first seen after it and changes the pages
// holding them: cheap where the column has few distinct values (all seen
// early), dear where it has many.
package cdcwrite
