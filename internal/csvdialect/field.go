package csvdialect

import "strings"

// AppendField appends v to dst as a field of a record with n fields,
// quoted when it must be to read back as v: when it holds the delimiter,
// the quote or a line end, starts with a space or tab (for readers that
// trim), is the only field of its record and empty (an empty line is no
// record), or is \. (a PostgreSQL COPY end marker).
func (d Dialect) AppendField(dst []byte, v string, n int) []byte {
	if !d.mustQuote(v, n) {
		return append(dst, v...)
	}
	dst = append(dst, d.Quote)
	for {
		i := strings.IndexByte(v, d.Quote)
		if i < 0 {
			break
		}
		dst = append(dst, v[:i+1]...)
		dst = append(dst, d.Quote)
		v = v[i+1:]
	}
	dst = append(dst, v...)
	return append(dst, d.Quote)
}

func (d Dialect) mustQuote(v string, n int) bool {
	if v == "" {
		return n == 1
	}
	if v[0] == ' ' || v[0] == '\t' || v == `\.` {
		return true
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == d.Comma || c == d.Quote || c == '\n' || c == '\r' {
			return true
		}
	}
	return false
}
