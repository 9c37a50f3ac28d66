// Package csvdialect is how dx reads and writes CSV text: one dialect
// decision (delimiter and quote character) and one reader, shared by the
// table parser (internal/table), the row cutting of merge (through
// table.Reader's RowEnd) and the chunker's CSV mode (store/chunker), so
// that what dx accepts at commit it reads the same way everywhere.
//
// The reader reads what Python's csv module reads with its default
// 'excel' dialect (strict off):
//   - a quote opens a quoted field only at the start of a field; anywhere
//     else it is a character of the field (37°36'37.8"N);
//   - in a quoted field two quotes are one quote, and a line end is text;
//   - text after a closing quote is part of the field ("ab"c reads abc),
//     and quotes in it are text;
//   - a record ends at LF, CRLF or a lone CR outside a quoted field; an
//     empty line is a record with no fields;
//   - a quoted field left open at the end of the file ends there.
//
// Row boundaries for cutting (RowEnd, State) are the '\n' bytes outside
// quoted fields: a run of bytes ending at one holds whole records, though
// a lone CR may end more than one record inside it.
package csvdialect
