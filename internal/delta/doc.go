// Package delta writes a delta directory: what changed between commits,
// as files a program can read without dx. `dx delta --out` writes one for
// a model's data, and `dx subscribe` one for each new head it hands to its
// command.
//
// A delta directory holds delta.json (the Summary: each changed path, its
// kind of change and, for a table, its row counts), rows/PATH.jsonl or
// rows/PATH.csv (a table's added, changed and removed rows) and files/PATH
// (the new version of every other added or changed file); a subscriber's
// also drift.json, when a data contract covers a changed table (the
// columns' drift, as dx drift --json gives it).
package delta
