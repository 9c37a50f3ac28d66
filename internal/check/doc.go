// Package check decides whether a version of a table file is a table
// under its spec (.dxattributes): every row parses as the one parser
// (internal/table) reads it, key columns are present, keys are unique. It
// reads what changed: against a version already checked, only the rows
// the row diff finds added or changed, and for an added key only the
// chunks whose key range could hold it; a version with nothing to compare
// against is read whole, on all cores.
//
// A broken rule is a *Violation ("path:line: reason"), which wraps
// ErrInvalid. Data contracts add their rules to the same path.
package check
