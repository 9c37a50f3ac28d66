package csvdialect

import (
	"bytes"
	"strings"
)

// Record reads the record that starts at data[p] and appends its fields
// to rec[:0]. It returns the offset just past the record's line end (LF,
// CRLF or a lone CR) and ok. An empty line is a record with no fields.
// Unless atEOF, a record that data may not hold whole (a quoted field
// left open, no line end, a CR that may be half of a CRLF) is not read:
// ok is false. At the end of the file a record needs no line end, and an
// open quoted field ends there. p must be below len(data).
func (d Dialect) Record(data []byte, p int, atEOF bool, rec []string) (fields []string, end int, ok bool) {
	if rec, end, ok := d.plainRecord(data, p, atEOF, rec[:0]); ok {
		return rec, end, true
	}
	return d.record(data, p, atEOF, rec[:0])
}

// record is Record for any record, field by field.
func (d Dialect) record(data []byte, p int, atEOF bool, rec []string) (fields []string, end int, ok bool) {
	i := p
	var buf []byte
	for {
		if i < len(data) && data[i] == d.Quote {
			// A quoted field, then any text up to the delimiter or line end.
			buf = buf[:0]
			j := i + 1
			for {
				k := bytes.IndexByte(data[j:], d.Quote)
				if k < 0 {
					if !atEOF {
						return nil, 0, false
					}
					buf = append(buf, data[j:]...)
					j = len(data)
					break
				}
				buf = append(buf, data[j:j+k]...)
				j += k + 1
				if j < len(data) && data[j] == d.Quote {
					buf = append(buf, d.Quote)
					j++
					continue
				}
				if j == len(data) && !atEOF {
					return nil, 0, false // maybe the first of two quotes
				}
				break
			}
			e := d.fieldEnd(data, j)
			buf = append(buf, data[j:e]...)
			rec = append(rec, string(buf))
			i = e
		} else {
			e := d.fieldEnd(data, i)
			if e == i && e < len(data) && data[e] != d.Comma && len(rec) == 0 {
				// A line end at the record's start: an empty line.
				return d.lineEnd(data, e, atEOF, rec)
			}
			rec = append(rec, string(data[i:e]))
			i = e
		}
		if i == len(data) {
			if !atEOF {
				return nil, 0, false
			}
			return rec, i, true
		}
		if data[i] != d.Comma {
			return d.lineEnd(data, i, atEOF, rec)
		}
		i++
	}
}

// lineEnd returns rec and the offset past the line end at data[i].
func (d Dialect) lineEnd(data []byte, i int, atEOF bool, rec []string) ([]string, int, bool) {
	if data[i] == '\n' {
		return rec, i + 1, true
	}
	switch {
	case i+1 < len(data) && data[i+1] == '\n':
		return rec, i + 2, true // CRLF
	case i+1 < len(data) || atEOF:
		return rec, i + 1, true // a lone CR
	}
	return nil, 0, false
}

// fieldEnd returns the index of the first delimiter or line end at or
// after i, or len(data).
func (d Dialect) fieldEnd(data []byte, i int) int {
	for ; i < len(data); i++ {
		if c := data[i]; c == d.Comma || c == '\n' || c == '\r' {
			return i
		}
	}
	return i
}

// plainRecord reads the usual record: one line without a quote, its
// fields substrings of one string. ok is false for anything else.
func (d Dialect) plainRecord(data []byte, p int, atEOF bool, rec []string) ([]string, int, bool) {
	raw := data[p:]
	if nl := bytes.IndexByte(raw, '\n'); nl >= 0 {
		raw = raw[:nl]
	}
	if bytes.IndexByte(raw, d.Quote) >= 0 {
		return nil, 0, false
	}
	if cr := bytes.IndexByte(raw, '\r'); cr >= 0 {
		raw = raw[:cr]
	}
	e := p + len(raw)
	if e == p || e == len(data) && !atEOF {
		return nil, 0, false // an empty line, or maybe not the whole line
	}
	line := string(data[p:e])
	for {
		i := strings.IndexByte(line, d.Comma)
		if i < 0 {
			break
		}
		rec = append(rec, line[:i])
		line = line[i+1:]
	}
	rec = append(rec, line)
	if e == len(data) {
		return rec, e, true
	}
	return d.lineEnd(data, e, atEOF, rec)
}
