package merge

import (
	"errors"
	"fmt"
	"strings"
)

// KeySep joins the values of a composite key's columns in Row.Key: it
// cannot occur in CSV text that a person typed, and it is escaped in JSON.
const KeySep = "\x1f"

// ShowKey writes a row key for people: its columns' values joined by
// commas.
func ShowKey(key string) string { return strings.ReplaceAll(key, KeySep, ",") }

// showKey is ShowKey quoted, for error messages.
func showKey(k string) string { return fmt.Sprintf("%q", ShowKey(k)) }

// Row is one parsed table row.
type Row struct {
	// Key identifies the row: the key columns' values joined by KeySep,
	// or the whole row for a table without a key.
	Key  string
	Cols []string // column names (shared between rows of one header)
	Vals []string // one value per column: text for CSV/TSV, JSON for JSONL
	Line int      // 1-based physical line, counted from the start of the parsed bytes
	// Off and End are the row's byte range, its line end included: from
	// Parse, relative to the bytes parsed; from DiffRows, in the file.
	Off, End int64
}

// Value returns the value of column c and whether the row has it.
func (r *Row) Value(c string) (string, bool) {
	for i, n := range r.Cols {
		if n == c {
			return r.Vals[i], true
		}
	}
	return "", false
}

// Header is what a table file declares before its rows.
type Header struct {
	Cols []string // CSV/TSV column names; nil for JSONL
	// Implicit: the file does not write its columns (a CSV without a
	// header line, columns named by number); it starts with its rows.
	Implicit bool
}

// Table reads one tabular format with a fixed key. Implementations live
// with the formats (internal/table); merge only needs this much.
type Table interface {
	// Header parses the header at the start of a file from its first
	// bytes and returns it with the number of bytes it takes (a byte
	// order mark included). atEOF says first is the whole file. It
	// returns ErrMisaligned when first ends inside the header.
	Header(first []byte, atEOF bool) (Header, int, error)
	// Parse calls fn for every row in data, which starts at a row
	// boundary. atEOF says data ends the file. Unless atEOF, data must
	// end at a row boundary too: if it does not, or a row is cut short,
	// Parse returns an error wrapping ErrMisaligned.
	Parse(h Header, data []byte, atEOF bool, fn func(Row) error) error
	// Keyed reports whether rows are matched by key columns (else by
	// their whole content).
	Keyed() bool
	// Quoted reports whether a newline may occur inside a row (CSV), so
	// that only some line ends are row boundaries.
	Quoted() bool
	// AppendRow appends r written for a file with header h (columns by
	// name; missing ones empty), ended by eol.
	AppendRow(dst []byte, h Header, r *Row, eol string) []byte
}

// RowEnder is an optional power of a Quoted table: where its rows end, as
// its Parse reads them. Without it, a '\n' after an even number of '"'
// since a row boundary ends a row.
type RowEnder interface {
	// RowEnd returns the offset just past the first '\n' at or after p
	// that ends a row, data[p] starting one; -1 if there is none in
	// data. The bytes from p to it hold whole rows.
	RowEnd(data []byte, p int) int
}

// ErrMisaligned: parsed bytes do not end at a row boundary.
var ErrMisaligned = errors.New("bytes do not end at a row boundary")

// LineError is a parse error at a line. Parsers count lines from the start
// of the bytes they were given; DiffRows makes the line absolute (counting
// from the start of the file) before returning it.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Is makes every LineError an ErrInvalidRows.
func (e *LineError) Is(target error) bool { return target == ErrInvalidRows }

// ErrInvalidRows: a version of a table is not a table under its spec
// (a row does not parse, a key is missing or repeated). LineError and
// DuplicateKeyError are ErrInvalidRows.
var ErrInvalidRows = errors.New("not a valid table")

// DuplicateKeyError: two rows of one version have the same key.
type DuplicateKeyError struct{ Key string }

func (e *DuplicateKeyError) Error() string { return "duplicate key " + showKey(e.Key) }

// Is makes every DuplicateKeyError an ErrInvalidRows.
func (e *DuplicateKeyError) Is(target error) bool { return target == ErrInvalidRows }

func sideErr(k int, err error) error { return &SideError{Side: k, Err: err} }

// SideError is an error reading one version of a diff: Side 0 the old,
// 1 the new.
type SideError struct {
	Side int
	Err  error
}

func (e *SideError) Error() string {
	if e.Side == 0 {
		return "old version: " + e.Err.Error()
	}
	return "new version: " + e.Err.Error()
}

func (e *SideError) Unwrap() error { return e.Err }
