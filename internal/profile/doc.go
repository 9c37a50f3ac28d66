// Package profile computes column profiles of tables and the drift
// between two of them.
//
// A Profile holds, per column, figures that merge exactly (counts, nulls,
// min, max and how many values equal each, integer sums and exact sums
// of floats and of their squares, value counts while a chunk holds few
// distinct values) and sketches that merge approximately (HyperLogLog for
// the distinct count, DDSketch for quantiles). A table version is profiled a
// span of chunks at a time (a span is usually one chunk: see
// check.Spans); each span's profile is kept in a Cache under the span's
// chunk ids, so a new version reuses every unchanged chunk's profile and
// computes only the changed ones. The file's profile is the merge of its
// spans', in any order. A span's cached profile is a head and a tail:
// the tail holds the exact counts of its columns of many values, read
// only for the file's columns that stay exact (see tail.go).
//
// A file's profile is cached too, as merged; every figure of it can have
// rows taken out again. A version whose earlier version's profile is
// cached is derived from it where few chunks changed: the rows of the
// changed chunks that the other version does not hold are taken out or
// put in (see derive.go and Profile.Apply).
//
// A Summary is what a user reads: each column's type (inferred, or the
// contract's), and its figures in that type. A Drift compares two
// Summaries' columns: PSI, the Kolmogorov–Smirnov distance, the change
// in null share, distinct count and top values, and a verdict against
// thresholds.
package profile
