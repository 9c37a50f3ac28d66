// Package check decides whether a version of a table file is a table
// under its spec (.dxattributes): every row parses as the one parser
// (internal/table) reads it, key columns are present, keys are unique. It
// reads what changed: against a version already checked, the new
// version's chunks the old one lacks (or, where the rules need to know
// which old rows went, the rows the row diff finds added or changed), and
// for a key they bring only the chunks whose key range could hold it; a
// version with nothing to compare against is read whole, on all cores.
//
// A broken rule is a *Violation ("path:line: reason"), which wraps
// ErrInvalid. Data contracts add their rules to the same path.
package check
