package csvdialect

import "bytes"

// State is where a reader is in CSV text, as much as row boundaries need.
type State uint8

// States.
const (
	// FieldStart: at the start of a record or of a field.
	FieldStart State = iota
	// InField: in an unquoted field, or after a quoted field's closing
	// quote (quotes are then text).
	InField
	// InQuotes: in a quoted field.
	InQuotes
	// QuoteInQuotes: just after a quote in a quoted field, which either
	// closes it or is the first of two that stand for one.
	QuoteInQuotes
)

// NextRowEnd returns the index of the first '\n' in b outside a quoted
// field, reading b from state s, or -1 and the state after b.
func (d Dialect) NextRowEnd(s State, b []byte) (int, State) {
	return d.scan(s, b, true)
}

// Advance returns the state after reading b from state s.
func (d Dialect) Advance(s State, b []byte) State {
	_, s = d.scan(s, b, false)
	return s
}

// EndsRow reports whether b, read from a record's start, ends just after
// a row end: its last byte is a '\n' outside a quoted field. When every
// chunk of a file but the last does, the file is cut only at row ends.
func (d Dialect) EndsRow(b []byte) bool {
	return len(b) > 0 && b[len(b)-1] == '\n' && d.Advance(FieldStart, b) == FieldStart
}

// LastRowEnd returns the index of the last '\n' at or after min in b
// outside a quoted field, reading b from state s, or -1.
func (d Dialect) LastRowEnd(s State, b []byte, min int) int {
	last := -1
	for p := 0; p < len(b); {
		i, _ := d.scan(s, b[p:], true)
		if i < 0 {
			break
		}
		if p+i >= min {
			last = p + i
		}
		p, s = p+i+1, FieldStart
	}
	return last
}

// RowEnd returns the offset just past the first '\n' at or after p that is
// outside a quoted field, data[p] starting a record; -1 if there is none.
// The bytes from p to it hold whole records.
func (d Dialect) RowEnd(data []byte, p int) int {
	i, _ := d.scan(FieldStart, data[p:], true)
	if i < 0 {
		return -1
	}
	return p + i + 1
}

// scan reads b from state s. With stop it returns at the first '\n'
// outside a quoted field (its index); else, or if there is none, it
// returns -1 and the state after b.
func (d Dialect) scan(s State, b []byte, stop bool) (int, State) {
	i := 0
	for i < len(b) {
		switch s {
		case InQuotes:
			k := bytes.IndexByte(b[i:], d.Quote)
			if k < 0 {
				return -1, InQuotes
			}
			i, s = i+k+1, QuoteInQuotes
		case QuoteInQuotes:
			if b[i] == d.Quote {
				i, s = i+1, InQuotes // two quotes: one quote of text
				continue
			}
			s = InField // closed; b[i] is read as after any text
		default:
			// Unquoted: a line end ends the row; a quote matters only at
			// the start of a field. Skip to the next quote.
			rest := b[i:]
			if stop {
				// Only quotes before the line end matter.
				if nl := bytes.IndexByte(rest, '\n'); nl >= 0 {
					if bytes.IndexByte(rest[:nl], d.Quote) < 0 {
						return i + nl, FieldStart
					}
					rest = rest[:nl]
				}
			}
			q := bytes.IndexByte(rest, d.Quote)
			if q >= 0 {
				rest = rest[:q]
			} else {
				rest = b[i:]
			}
			if q < 0 {
				if len(rest) > 0 {
					s = InField
					if d.starts(rest[len(rest)-1]) {
						s = FieldStart
					}
				}
				i = len(b)
				continue
			}
			x := i + q
			if x == i && s == FieldStart || x > i && d.starts(b[x-1]) {
				i, s = x+1, InQuotes
			} else {
				i, s = x+1, InField // a quote inside a field is text
			}
		}
	}
	return -1, s
}

// starts reports whether a field starts after byte c read outside quotes:
// a delimiter or a line end.
func (d Dialect) starts(c byte) bool { return c == d.Comma || c == '\n' || c == '\r' }

// Transitions is what a piece of CSV text does to the reading state,
// whatever the state it is read from: so a file's row ends can be learned
// from its pieces read apart (each once, in any order) and composed from
// the file's start, even where a piece starts inside a quoted field.
type Transitions struct {
	// End is the state after the piece read from each state.
	End [4]State
	// NL: the piece ends in '\n' (a row end if the state after it is
	// FieldStart).
	NL bool
}

// Transitions reads b from each state.
func (d Dialect) Transitions(b []byte) Transitions {
	var t Transitions
	for s := range t.End {
		t.End[s] = d.Advance(State(s), b)
	}
	t.NL = len(b) > 0 && b[len(b)-1] == '\n'
	return t
}

// Next returns the state after the piece, read from s, and whether the
// piece then ends just after a row end.
func (t Transitions) Next(s State) (State, bool) {
	e := t.End[s&3]
	return e, t.NL && e == FieldStart
}

// Encode packs t into a byte: two bits for each end state, NL in none of
// them (it is the caller's to keep apart, see Decode).
func (t Transitions) Encode() (ends byte, nl bool) {
	for s, e := range t.End {
		ends |= byte(e&3) << (2 * s)
	}
	return ends, t.NL
}

// DecodeTransitions is Encode's inverse.
func DecodeTransitions(ends byte, nl bool) Transitions {
	t := Transitions{NL: nl}
	for s := range t.End {
		t.End[s] = State(ends>>(2*s)) & 3
	}
	return t
}
