package csvdialect

import (
	"errors"
	"fmt"
)

// Dialect is how one CSV file is written: its field delimiter and quote
// character.
type Dialect struct {
	Comma byte // field delimiter
	Quote byte // quote character
}

// Default is the dialect of a CSV without attributes: Python's 'excel'.
var Default = Dialect{Comma: ',', Quote: '"'}

// Errors of Validate and the parsers of attribute values.
var (
	ErrBadDelimiter = errors.New("bad delimiter")
	ErrBadQuote     = errors.New("bad quote")
)

// ParseDelimiter reads a delimiter= attribute value: one ASCII character
// other than a line end or a space, or "tab".
func ParseDelimiter(v string) (byte, error) {
	if v == "tab" || v == `\t` {
		return '\t', nil
	}
	if len(v) != 1 || !usable(v[0]) {
		return 0, fmt.Errorf("%w %q: one ASCII character (like ; or |) or tab", ErrBadDelimiter, v)
	}
	return v[0], nil
}

// ParseQuote reads a quote= attribute value: one ASCII character other
// than a line end or a space.
func ParseQuote(v string) (byte, error) {
	if len(v) != 1 || !usable(v[0]) || v[0] == '\t' {
		return 0, fmt.Errorf("%w %q: one ASCII character (like \" or ')", ErrBadQuote, v)
	}
	return v[0], nil
}

// usable reports whether c can delimit or quote: printable ASCII or tab,
// not a space (it would be lost to trimming).
func usable(c byte) bool { return c == '\t' || c > ' ' && c < 0x7f }

// Validate checks that the delimiter and the quote differ and are usable.
func (d Dialect) Validate() error {
	switch {
	case !usable(d.Comma):
		return fmt.Errorf("%w %q", ErrBadDelimiter, d.Comma)
	case !usable(d.Quote) || d.Quote == '\t':
		return fmt.Errorf("%w %q", ErrBadQuote, d.Quote)
	case d.Comma == d.Quote:
		return fmt.Errorf("%w: the delimiter and the quote are both %q", ErrBadQuote, d.Comma)
	}
	return nil
}

// String names the dialect in attribute spelling, "" for Default.
func (d Dialect) String() string {
	s := ""
	if d.Comma != Default.Comma {
		if d.Comma == '\t' {
			s = "delimiter=tab"
		} else {
			s = "delimiter=" + string(d.Comma)
		}
	}
	if d.Quote != Default.Quote {
		if s != "" {
			s += " "
		}
		s += "quote=" + string(d.Quote)
	}
	return s
}
